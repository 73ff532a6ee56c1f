"""Running a notebook cell again replaces what it started the first time, instead of orphaning it.

A cell is recognised by where the call comes from: ipykernel names each cell's code after a hash of
its source, so an unchanged cell run again calls from the same file and line. A handler defined at
the notebook's top level is also recognised by its name, which catches an edited cell that
redefines it. Only what an *earlier* execution started is replaced: three clients made in one loop
of one run all stay. Outside IPython (scripts, tests, the package itself) nothing is tracked.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Hashable

_lock = threading.Lock()
_started: dict[Hashable, tuple[int, list[object]]] = {}  # key -> (execution count, things)


def current_execution() -> int | None:
    """The IPython execution count of the running cell, or None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return getattr(shell, "execution_count", None) if shell is not None else None


def cell_keys(kind: str, depth: int, notebook_name: str | None = None) -> list[Hashable]:
    """Keys for the notebook call `depth` frames above the caller; none outside a notebook."""
    frame = sys._getframe(depth + 1)
    if frame.f_globals.get("__name__") != "__main__" or current_execution() is None:
        return []
    keys: list[Hashable] = [(kind, "site", frame.f_code.co_filename, frame.f_lineno)]
    if notebook_name is not None and "<locals>" not in notebook_name:  # a factory's handlers share a name
        keys.append((kind, "name", notebook_name))
    return keys


def started_before(keys: list[Hashable]) -> list[object]:
    """What an earlier execution started under any of `keys`, each once."""
    execution = current_execution()
    with _lock:
        found = [
            thing
            for key in keys
            if key in _started and _started[key][0] != execution
            for thing in _started[key][1]
        ]
    return list({id(thing): thing for thing in found}.values())


def remember(keys: list[Hashable], thing: object) -> None:
    execution = current_execution()
    with _lock:
        for key in keys:
            earlier_execution, things = _started.get(key, (execution, []))
            _started[key] = (execution, things + [thing] if earlier_execution == execution else [thing])


def forget(thing: object) -> None:
    with _lock:
        for key, (execution, things) in list(_started.items()):
            kept = [other for other in things if other is not thing]
            if kept:
                _started[key] = (execution, kept)
            else:
                del _started[key]
