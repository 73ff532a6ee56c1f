"""Self-checks for the lessons' exercises: each runs the learner's code against a real server.

A check reports "not tried yet" while the exercise still holds its placeholder (None), so Run All
stays green; once the learner has written something, it asserts, and the message says what to fix.
"""

from __future__ import annotations

from websockets.sync.client import connect

from .i18n import t
from .server import serve_in_background


def check_greeter(greeter: object) -> None:
    """Lesson 01: the server greets each client first, unasked, then echoes like the article's."""
    if greeter is None:
        print(t("not_tried"))
        return
    with serve_in_background(greeter) as server, connect(server.url, proxy=None) as websocket:
        try:
            greeting = websocket.recv(timeout=2)
        except TimeoutError:
            raise AssertionError(t("greeter_silent")) from None
        assert greeting, t("greeter_empty")
        for text in ("ping", "pong"):
            websocket.send(text)
            reply = websocket.recv(timeout=2)
            assert reply == f"Server: {text}", t("greeter_echo", sent=text, got=reply)
    print(t("well_done"))
