"""Self-checks for the lessons' exercises: each runs the learner's code against a real server.

A check reports "not tried yet" while the exercise still holds its placeholder (None), so Run All
stays green; once the learner has written something, it asserts, and the message says what to fix.
"""

from __future__ import annotations

import asyncio

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from . import loop
from .closes import close_details
from .i18n import t
from .server import BackgroundServer, serve_in_background

REPLY_TIMEOUT = 2.0
CHECK_TIMEOUT = 10.0
PROBES = ("ping", "pong")


def check_greeter(greeter: object) -> None:
    """Lesson 01: the server greets each client first, unasked, then echoes like the article's."""
    if greeter is None:
        print(t("not_tried"))
        return
    server = serve_in_background(greeter)
    try:
        problem = loop.run(_talk_to_greeter(server.url), timeout=CHECK_TIMEOUT)
    finally:
        _stop_quietly(server)
    if problem:
        raise AssertionError(" ".join([problem, *_raised(server)]))
    print(t("well_done"))


async def _talk_to_greeter(url: str) -> str | None:
    """What is wrong with the greeter at `url`, or None."""
    async with connect(url) as websocket:
        try:
            greeting = await asyncio.wait_for(websocket.recv(), REPLY_TIMEOUT)
        except TimeoutError:
            return t("greeter_silent")
        except ConnectionClosed as closed:
            return t("greeter_closed", why=t("closed", **close_details(closed)))
        if not greeting:
            return t("greeter_empty")
        for text in PROBES:
            try:
                await websocket.send(text)
                reply = await asyncio.wait_for(websocket.recv(), REPLY_TIMEOUT)
            except TimeoutError:
                return t("greeter_no_echo", sent=text)
            except ConnectionClosed as closed:
                return t("greeter_stopped", sent=text, why=t("closed", **close_details(closed)))
            if reply != f"Server: {text}":
                return t("greeter_echo", sent=text, got=reply)
    return None


def _raised(server: BackgroundServer) -> list[str]:
    return [t("greeter_raised", error=f"{type(e).__name__}: {e}") for e in server.errors[-1:]]


def _stop_quietly(server: BackgroundServer) -> None:
    # A stuck handler makes stop() fail too; the check's own message says more than that would.
    try:
        server.stop(timeout=1)
    except (loop.LoopBlockedError, TimeoutError):
        pass
