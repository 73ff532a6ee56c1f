"""Connections to this machine never go through a proxy.

A class hub may set http_proxy / https_proxy for the whole machine; websockets honours them, and
without an exception for loopback, a cell's ``connect("ws://127.0.0.1:...")`` would be sent to
the proxy and fail.
"""

from __future__ import annotations

import os

LOOPBACK = ("127.0.0.1", "localhost", "::1")
VARIABLES = ("no_proxy", "NO_PROXY")


def bypass_proxies_for_loopback() -> None:
    # urllib reads both spellings and the lowercase one wins, so both get the same full list.
    listed: list[str] = []
    for variable in VARIABLES:
        for entry in os.environ.get(variable, "").split(","):
            if entry.strip() and entry.strip() not in listed:
                listed.append(entry.strip())
    listed += [host for host in LOOPBACK if host not in listed]
    for variable in VARIABLES:
        os.environ[variable] = ",".join(listed)
