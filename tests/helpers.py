"""Small helpers the tests share."""

from __future__ import annotations

import time


def wait_until(condition, timeout=5.0):
    """Poll `condition` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
