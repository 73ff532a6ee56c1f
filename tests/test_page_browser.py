"""The article's page in a real browser (Debian's Chromium), served by the helper's Python server.

Opened directly (http://127.0.0.1:PORT/) and through jupyter-server-proxy on a real Jupyter server
with a token, as a browser on Binder or a class hub reaches a server inside the kernel: type,
press Send (or Enter), read "Message: Server: ...". The article's page against the Python server
closes the loop between the article's client and this tutorial's server.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from websockets.asyncio.server import broadcast
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.browser import chromium_page, require_chromium, screenshot
from tests.helpers import wait_until
from tests.lab_server import lab_page, open_notebook, run_all_cells, running_jupyterlab, wait_for_run_all
from wstutorial import echo
from wstutorial.page import chat_page, page_html, page_url, proxied_url

pytestmark = pytest.mark.usefixtures("english")

TIMEOUT_MS = 10_000
LAB_TIMEOUT_MS = 90_000  # JupyterLab's first page load and a Run All, on a busy 2-core machine
BASE_URL = "/user/learner/"  # as on a hub, so the page must keep the path's prefix
LESSON = "04-serve-the-article-page-in-the-browser.ipynb"


def exchange(page, text, *, press_enter=False, expect="Message: Server: {text}"):
    """Type `text`, send it as a person would, and wait for the answer to show."""
    page.fill("#messageInput", text)
    if press_enter:
        page.press("#messageInput", "Enter")
    else:
        page.click("#sendButton")
    page.get_by_text(expect.format(text=text), exact=True).wait_for(timeout=TIMEOUT_MS)
    assert page.input_value("#messageInput") == ""  # sent, so the box is cleared


def wait_connected(page, words="Connected to WebSocket server"):
    page.locator("#status", has_text=words).wait_for(timeout=TIMEOUT_MS)


def messages(page):
    return page.locator("#messages > div").all_inner_texts()


# Opened directly.


def test_page_opened_directly_answers_send_and_enter(start_server):
    server = start_server(echo, process_request=chat_page("en"))
    with chromium_page() as page:
        page.goto(page_url(server))
        wait_connected(page)
        assert page.get_attribute("#messageInput", "placeholder") == "Type your message..."
        assert page.inner_text("#sendButton") == "Send"
        exchange(page, "hello")
        exchange(page, "and Enter sends too", press_enter=True)
        assert messages(page) == ["Message: Server: hello", "Message: Server: and Enter sends too"]
        screenshot(page, "page-direct-en")
    assert server.log == ["Client connected", "Received: hello", "Received: and Enter sends too"]


def test_indonesian_page_says_kirim_and_pesan(start_server):
    server = start_server(echo, process_request=chat_page("id"))
    with chromium_page() as page:
        page.goto(page_url(server))
        wait_connected(page, "Terhubung ke server WebSocket")
        assert page.get_attribute("#messageInput", "placeholder") == "Ketik pesan..."
        assert page.inner_text("#sendButton") == "Kirim"
        exchange(page, "halo", expect="Pesan: Server: {text}")
        screenshot(page, "page-direct-id")


def test_page_shows_a_message_that_looks_like_html_as_plain_text(start_server):
    server = start_server(echo, process_request=chat_page("en"))
    with chromium_page() as page:
        page.goto(page_url(server))
        wait_connected(page)
        exchange(page, '<img src="x" onerror="document.title=\'owned\'">')
        assert page.locator("#messages img").count() == 0
        assert page.title() == "WebSocket Client"


def test_page_says_when_the_server_goes_away_and_keeps_an_unsent_message(start_server):
    server = start_server(echo, process_request=chat_page("en"))
    with chromium_page() as page:
        page.goto(page_url(server))
        wait_connected(page)
        server.stop()
        page.locator("#status", has_text="Connection closed: code 1001").wait_for(timeout=TIMEOUT_MS)
        assert "Reload the page" in page.inner_text("#status")
        page.fill("#messageInput", "anyone?")
        page.click("#sendButton")
        assert page.input_value("#messageInput") == "anyone?"  # not lost
        assert page.inner_text("#status").startswith("Not connected (Connection closed: code 1001")
        screenshot(page, "page-server-gone-en")


def test_page_that_cannot_connect_says_so():
    # Saved and opened from a file, the page has no server behind its address.
    with chromium_page() as page, tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "chat.html"
        path.write_text(page_html("en"), encoding="utf-8")
        page.goto(path.as_uri())
        page.locator("#status", has_text="Error:").wait_for(timeout=TIMEOUT_MS)


# Both clients in one room: the page in the browser and the widget in the kernel.

members = set()


async def chat_room(websocket):
    members.add(websocket)
    try:
        async for message in websocket:
            broadcast(members, f"Server: {message}")
    finally:
        members.discard(websocket)


def test_page_and_chat_client_see_each_others_messages(start_server, chat):
    server = start_server(chat_room, process_request=chat_page("en"))
    with chromium_page() as page:
        page.goto(page_url(server))
        wait_connected(page)
        widget = chat(server.url, lang="en")
        assert wait_until(lambda: len(members) == 2)  # both are in the room before anyone speaks
        widget.send("hello from the widget")
        page.get_by_text("Message: Server: hello from the widget", exact=True).wait_for(timeout=TIMEOUT_MS)
        exchange(page, "hello from the page")
        assert widget.wait_for(2) == ["Server: hello from the widget", "Server: hello from the page"]
        screenshot(page, "page-broadcast-en")


# Through jupyter-server-proxy, on a Jupyter server with a token.


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    """JupyterLab under a hub-like base URL, serving a copy of notebooks/; always stopped."""
    require_chromium()  # every test here drives the browser or the proxy it serves
    with running_jupyterlab(tmp_path_factory.mktemp("jupyter"), lesson=LESSON, base_url=BASE_URL) as server:
        yield server


def test_page_through_jupyter_server_proxy_with_a_token(jupyter, start_server):
    server = start_server(echo, process_request=chat_page("en"))
    address = proxied_url(server, base_url=BASE_URL)
    assert address == f"{BASE_URL}proxy/{server.port}/"
    with chromium_page() as page:
        # The token logs the browser in (a cookie); the page's WebSocket then rides on that cookie.
        page.goto(f"{jupyter.origin}{address}?token={jupyter.token}")
        wait_connected(page)
        assert page.inner_text("#status").endswith(f"127.0.0.1:{jupyter.port}{address}")
        exchange(page, "hello through the proxy")
        exchange(page, "and Enter", press_enter=True)
        screenshot(page, "page-proxied-en")
    assert "Received: hello through the proxy" in server.log


def test_the_proxy_refuses_a_websocket_without_login(jupyter, start_server):
    server = start_server(echo, process_request=chat_page("en"))
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{jupyter.port}{proxied_url(server, base_url=BASE_URL)}", open_timeout=5)
    assert refused.value.response.status_code == 403
    assert server.log == []  # the request never reached the server


def run_in_kernel(jupyter, kernel_id, code, timeout=30):
    """Execute `code` in a kernel of `jupyter` over its channels WebSocket; return what it printed."""
    url = f"ws://127.0.0.1:{jupyter.port}{BASE_URL}api/kernels/{kernel_id}/channels?token={jupyter.token}"
    msg_id = uuid.uuid4().hex
    request = {
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                   "session": uuid.uuid4().hex, "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True},
    }
    printed, replied, idle, deadline = [], False, False, time.monotonic() + timeout
    with connect(url, open_timeout=10, max_size=None) as channels:
        channels.send(json.dumps(request))
        # The reply (shell) may overtake the printed text (iopub); "idle" on iopub comes after all of it.
        while not (replied and idle):
            reply = json.loads(channels.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = reply["msg_type"], reply["content"]
            if kind == "stream":
                printed.append(content["text"])
            elif kind == "error":
                raise AssertionError("\n".join(content["traceback"]))
            elif kind == "execute_reply":
                replied = True
            elif kind == "status":
                idle = content["execution_state"] == "idle"
    return "".join(printed)


def test_a_server_started_in_a_kernel_is_reached_at_its_proxied_url(jupyter):
    # The whole Binder story: Jupyter starts the kernel, the kernel starts the server and names
    # the proxied address itself, and the browser reaches it through Jupyter.
    kernel = jupyter.api("kernels", method="POST")
    try:
        printed = run_in_kernel(jupyter, kernel["id"], "\n".join([
            "from wstutorial import echo, serve_in_background",
            "from wstutorial.page import chat_page, proxied_url",
            "server = serve_in_background(echo, process_request=chat_page('en'))",
            "print(proxied_url(server))",
        ]))
        address = printed.strip()
        assert address.startswith(f"{BASE_URL}proxy/") and address.endswith("/")
        with chromium_page() as page:
            page.goto(f"{jupyter.origin}{address}?token={jupyter.token}")
            wait_connected(page)
            exchange(page, "hello, kernel")
            screenshot(page, "page-proxied-from-kernel-en")
        assert "Received: hello, kernel" in run_in_kernel(jupyter, kernel["id"], "print(server.log)")
    finally:
        jupyter.api(f"kernels/{kernel['id']}", method="DELETE")


# The lesson itself, in JupyterLab: the page in its frame and the widget, in one room.

IN_ROOM = {
    "en": {"connected": "Connected to WebSocket server", "message": "Message: Server: {text}",
           "placeholder": "Type your message...", "send": "Send"},
    "id": {"connected": "Terhubung ke server WebSocket", "message": "Pesan: Server: {text}",
           "placeholder": "Ketik pesan...", "send": "Kirim"},
}


@pytest.mark.parametrize("lang", ["en", "id"])
def test_lesson_04_in_jupyterlab_puts_the_framed_page_and_the_widget_in_one_room(jupyter, lang):
    words = IN_ROOM[lang]
    with lab_page(jupyter, f"lab-04-{lang}", {"width": 1280, "height": 1400}) as page:
        open_notebook(page, jupyter, f"{lang}/{LESSON}", workspace=f"test-{lang}", timeout_ms=LAB_TIMEOUT_MS)
        run_all_cells(page)

        # The kernel found /user/learner/ itself; the framed page connected through the proxy.
        frame = page.frame_locator("iframe").first
        connected = f"{words['connected']} ws://127.0.0.1:{jupyter.port}{BASE_URL}proxy/"
        frame.locator("#status").filter(has_text=connected).wait_for(timeout=LAB_TIMEOUT_MS)
        # A person types in the framed page, and the widget shows it...
        frame.locator("#messageInput").fill(f"typed in the frame ({lang})")
        frame.locator("#sendButton").click()
        widget = page.locator(".widget-vbox", has=page.get_by_placeholder(words["placeholder"])).first
        widget.get_by_text(words["message"].format(text=f"typed in the frame ({lang})"), exact=True).wait_for(
            timeout=TIMEOUT_MS)
        # ...then types in the widget, and the framed page shows it.
        widget.get_by_placeholder(words["placeholder"]).fill(f"typed in the widget ({lang})")
        widget.get_by_role("button", name=words["send"], exact=True).click()
        frame.get_by_text(words["message"].format(text=f"typed in the widget ({lang})"), exact=True).wait_for(
            timeout=TIMEOUT_MS)
        # The copy has no execution counts: a number in every prompt means this run reached every cell.
        wait_for_run_all(page, jupyter, f"{lang}/{LESSON}", LAB_TIMEOUT_MS)
        page.locator("iframe").first.scroll_into_view_if_needed()
        screenshot(page, f"lab-04-{lang}")
