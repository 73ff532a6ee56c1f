"""Lesson 07 in a real browser: a page from a foreign website opens a WebSocket to our server.

Cross-site WebSocket hijacking is about what browsers do, so this is checked with one: Chromium
loads a page from another origin (a plain HTTP server on another loopback port) and the page runs
``new WebSocket(...)`` to our server. The page is served from loopback because Chromium's Local
Network Access checks let a page from the Internet connect to 127.0.0.1 only with the user's
permission, which a test browser never gives, so it is refused (the last test shows that): a
public server gets no such help, so the foreign page must be local to be let in.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from tests.browser import chromium_page
from wstutorial import log

FOREIGN_PAGE = """<!DOCTYPE html>
<script>
window.outcome = new Promise((resolve) => {
    const socket = new WebSocket(%s);
    socket.onopen = () => socket.send("hello from a foreign page");
    socket.onmessage = (event) => { resolve("answered: " + event.data); socket.close(); };
    socket.onclose = (event) => resolve("closed: " + event.code);
});
</script>
"""


async def who_is_calling(websocket):
    log(f"Connection from {websocket.request.headers.get('Origin')}")
    async for message in websocket:
        await websocket.send(f"Server: {message}")


@contextlib.contextmanager
def foreign_site(websocket_url: str) -> Iterator[str]:
    """An HTTP server on another port whose page connects to `websocket_url`; yields the page's URL."""
    body = (FOREIGN_PAGE % json.dumps(websocket_url)).encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # keep the test output clean
            pass

    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{site.server_address[1]}/"
    finally:
        site.shutdown()
        site.server_close()


def visit(page_url: str, page) -> str:
    page.goto(page_url)
    return page.evaluate("window.outcome")


@pytest.fixture
def page():
    with chromium_page() as page:
        yield page


def test_a_foreign_page_in_a_browser_gets_in_by_default(start_server, page):
    server = start_server(who_is_calling)
    with foreign_site(server.url) as site:
        assert visit(site, page) == "answered: Server: hello from a foreign page"
    assert server.log == [f"Connection from {site.rstrip('/')}"]


def test_a_foreign_page_in_a_browser_is_refused_once_an_allow_list_is_set(start_server, page):
    server = start_server(who_is_calling, origins=["https://chat.example"])
    with foreign_site(server.url) as site:
        # A page never sees the HTTP status of a refused handshake: only 1006.
        assert visit(site, page) == "closed: 1006"
    assert server.log == []


def test_chromium_keeps_a_page_from_the_internet_away_from_loopback(start_server, page):
    server = start_server(who_is_calling)
    page.route(
        "http://evil.example/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=FOREIGN_PAGE % json.dumps(server.url)),
    )
    assert visit("http://evil.example/", page) == "closed: 1006"
    assert server.log == []
