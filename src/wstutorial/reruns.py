"""Running a notebook cell again replaces what it started the first time, instead of orphaning it.

A cell is recognised by where the call comes from: ipykernel names each cell's code after a hash of
its source, so an unchanged cell run again calls from the same file and line. A handler defined in
the notebook is also recognised by its name, which catches an edited cell that redefines it.
Calls from modules (tests, the package itself) are never tracked: two servers of one handler may
well coexist there.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Hashable

_lock = threading.Lock()
_started: dict[Hashable, object] = {}


def cell_keys(kind: str, depth: int, notebook_name: str | None = None) -> list[Hashable]:
    """Keys for the notebook call `depth` frames above the caller; none outside a notebook."""
    frame = sys._getframe(depth + 1)
    if frame.f_globals.get("__name__") != "__main__":
        return []
    keys: list[Hashable] = [(kind, "site", frame.f_code.co_filename, frame.f_lineno)]
    if notebook_name is not None:
        keys.append((kind, "name", notebook_name))
    return keys


def started_before(keys: list[Hashable]) -> list[object]:
    """What was started under any of `keys`, each once."""
    with _lock:
        found = [_started[key] for key in keys if key in _started]
    return list({id(thing): thing for thing in found}.values())


def remember(keys: list[Hashable], thing: object) -> None:
    with _lock:
        for key in keys:
            _started[key] = thing


def forget(thing: object) -> None:
    with _lock:
        for key in [key for key, value in _started.items() if value is thing]:
            del _started[key]
