"""One asyncio event loop in a daemon thread, shared by every server and client.

Jupyter's kernel already runs an event loop in the main thread, so `asyncio.run()` cannot be
called from a cell, and anything started on the kernel's loop stops when a cell blocks. The
helper's servers and widget clients live on this second loop instead: they keep serving while
cells run, sleep or wait, and a cell can block on them (``client.wait_for``) without deadlock.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

THREAD_NAME = "wstutorial-loop"

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def get_loop() -> asyncio.AbstractEventLoop:
    """Return the background loop, starting its thread on first use."""
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            threading.Thread(target=run, name=THREAD_NAME, daemon=True).start()
            ready.wait()
            _loop = loop
        return _loop


def submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Schedule `coro` on the background loop; return a thread-safe future."""
    return asyncio.run_coroutine_threadsafe(coro, get_loop())


def run(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run `coro` on the background loop and block until it finishes.

    Must not be called from the background loop itself: it would wait for itself forever.
    """
    loop = get_loop()
    if in_loop_thread():
        coro.close()
        raise RuntimeError("wstutorial.loop.run() was called from the background loop itself")
    future = asyncio.run_coroutine_threadsafe(coro, loop)
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise TimeoutError(f"the background task did not finish within {timeout} s") from None


def in_loop_thread() -> bool:
    return threading.current_thread().name == THREAD_NAME and _loop is not None
