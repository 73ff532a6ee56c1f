"""Lesson 01 in real JupyterLab, in a real browser: Run All, then chat through the rendered widget.

nbval only compares the outputs a kernel produces; it cannot see whether the widget renders and
answers in the browser. Here JupyterLab runs on loopback with a token, headless Chromium opens
lesson 01 in each language, runs all cells from the Run menu, types into the widget's text box,
presses Send (and then Enter), and waits for the server's echo in the rendered widget.
Screenshots go to test-artifacts/. The notebooks are copied to a temporary folder first, so
JupyterLab's autosave never touches the committed ones, and every Jupyter and IPython folder
points into that temporary folder too.
"""

from __future__ import annotations

import time

import pytest

from tests.browser import require_chromium, screenshot
from tests.lab_server import lab_page, open_notebook, run_all_cells, running_jupyterlab, wait_for_run_all

LESSON = "01-real-time-communication-with-websocket.ipynb"
KERNEL_TIMEOUT = 60_000  # ms, for Playwright: a kernel start or Run All on that machine
ECHO_TIMEOUT = 30_000  # ms
# What the widget says, in the lesson's language (wstutorial.i18n: placeholder, send, message, connected).
WIDGET_TEXT = {
    "en": {
        "placeholder": "Type your message...", "send": "Send", "message": "Message: {text}",
        "connected": "Connected to WebSocket server ws://127.0.0.1:",
    },
    "id": {
        "placeholder": "Ketik pesan...", "send": "Kirim", "message": "Pesan: {text}",
        "connected": "Terhubung ke server WebSocket ws://127.0.0.1:",
    },
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a token, serving a copy of notebooks/; always stopped."""
    require_chromium()  # no JupyterLab start when the browser tests cannot run anyway
    with running_jupyterlab(tmp_path_factory.mktemp("lab"), lesson=LESSON) as server:
        yield server


@pytest.mark.parametrize("lang", ["en", "id"])
def test_run_all_then_chat_through_the_rendered_widget(lab, lang):
    words = WIDGET_TEXT[lang]
    with lab_page(lab, f"lab-01-{lang}", {"width": 1280, "height": 1000}) as page:
        open_notebook(page, lab, f"{lang}/{LESSON}", workspace=f"test-{lang}", timeout_ms=KERNEL_TIMEOUT)
        run_all_cells(page)
        # The copy has no outputs and no execution counts: a number in every prompt means
        # every cell has run, and the widget on the page came from this run.
        wait_for_run_all(page, lab, f"{lang}/{LESSON}", KERNEL_TIMEOUT)

        chat = page.locator(".widget-vbox", has=page.get_by_placeholder(words["placeholder"])).first
        box = chat.get_by_placeholder(words["placeholder"])
        box.scroll_into_view_if_needed()
        chat.get_by_text(words["connected"]).wait_for(timeout=ECHO_TIMEOUT)

        typed = f"typed in the browser ({lang})"
        box.fill(typed)
        chat.get_by_role("button", name=words["send"], exact=True).click()
        echo = chat.get_by_text(words["message"].format(text=f"Server: {typed}"), exact=True)
        echo.wait_for(timeout=ECHO_TIMEOUT)
        wait_for_value(box, "")  # the box is cleared once the message is sent, as on the article's page
        screenshot(page, f"lab-01-{lang}")

        entered = f"sent with Enter ({lang})"
        box.fill(entered)
        box.press("Enter")
        chat.get_by_text(words["message"].format(text=f"Server: {entered}"), exact=True).wait_for(
            timeout=ECHO_TIMEOUT
        )
        wait_for_value(box, "")
        screenshot(page, f"lab-01-{lang}-enter")


def wait_for_value(box, value: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while box.input_value() != value:
        assert time.monotonic() < deadline, f"the text box still holds {box.input_value()!r}"
        time.sleep(0.05)
