"""One asyncio event loop in a daemon thread, shared by every server and client.

Jupyter's kernel already runs an event loop in the main thread, so `asyncio.run()` cannot be
called from a cell, and anything started on the kernel's loop stops when a cell blocks. The
helper's servers and widget clients live on this second loop instead: they keep serving while
cells run, sleep or wait, and a cell can block on them (``client.wait_for``) without deadlock.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from .i18n import t

T = TypeVar("T")

THREAD_NAME = "wstutorial-loop"
ALIVE_TIMEOUT = 1.0

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None

# Errors no task collected ("Task exception was never retrieved"), when no server could take them.
unhandled: list[str] = []

# The server whose handler runs in this context (server.py sets it). Tasks remember it when they
# are made, so an error nobody collects from a task a handler started goes to that server's log.
current_server: contextvars.ContextVar[Any] = contextvars.ContextVar("wstutorial_server")


class LoopBlockedError(RuntimeError):
    """The background loop does not answer: some handler blocks it. The message says what to do."""


def get_loop() -> asyncio.AbstractEventLoop:
    """Return the background loop, starting its thread on first use."""
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            loop.set_exception_handler(_record_unhandled)
            loop.set_task_factory(_task_remembering_its_server)
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            threading.Thread(target=run, name=THREAD_NAME, daemon=True).start()
            ready.wait()
            _loop = loop
        return _loop


def run(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run `coro` on the background loop and block until it finishes (cancelled after `timeout`).

    Raises `LoopBlockedError` when the loop itself no longer answers, which is what a handler that
    calls ``time.sleep`` or loops forever does to every server and client at once.
    """
    if in_loop_thread():
        coro.close()
        raise RuntimeError(t("loop_reentry"))
    future = asyncio.run_coroutine_threadsafe(coro, get_loop())
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        if not is_responsive():
            raise LoopBlockedError(t("loop_blocked")) from None
        raise TimeoutError(t("loop_timeout", timeout=timeout)) from None


def is_responsive(timeout: float = ALIVE_TIMEOUT) -> bool:
    """Whether the background loop runs a callback within `timeout` seconds."""
    answered = threading.Event()
    get_loop().call_soon_threadsafe(answered.set)
    return answered.wait(timeout)


def in_loop_thread() -> bool:
    return _loop is not None and threading.current_thread().name == THREAD_NAME


class Task(asyncio.Task):  # type: ignore[type-arg]
    """A task a handler started, carrying its server (a weak map loses it when gc breaks a cycle)."""

    server: Any = None


def _task_remembering_its_server(loop: asyncio.AbstractEventLoop, coro: Any, **options: Any) -> asyncio.Task[Any]:
    server = current_server.get(None)
    if server is None:
        return asyncio.Task(coro, loop=loop, **options)
    task = Task(coro, loop=loop, **options)
    task.server = server
    return task


def _record_unhandled(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # asyncio's default handler prints; printed text would land in whichever cell is running.
    error = context.get("exception")
    text = f"{context.get('message', '')}: {type(error).__name__}: {error}" if error else context.get("message", "")
    from .server import running_servers  # here, not at the top: server imports this module

    task = context.get("future")
    owner = getattr(task, "server", None)
    servers = [owner] if owner is not None else running_servers()
    for server in servers:
        server.log.append(t("background_error", text=text))
    if not servers:
        unhandled.append(text)
