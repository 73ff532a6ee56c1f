"""A machine-wide proxy (a class hub sets one) must not swallow connections to this machine."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from websockets.asyncio.client import connect

from wstutorial.proxies import bypass_proxies_for_loopback

# Nothing listens on port 9 (discard): a connection sent to this proxy fails at once.
DEAD_PROXY = "http://127.0.0.1:9"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@pytest.fixture
def dead_proxy(monkeypatch):
    """Every proxy variable points at a dead proxy and no_proxy is unset; all restored afterwards."""
    for variable in PROXY_VARIABLES:
        monkeypatch.setenv(variable, DEAD_PROXY)
    for variable in ("no_proxy", "NO_PROXY", "ws_proxy", "wss_proxy", "WS_PROXY", "WSS_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


async def echo_once(url):
    async with connect(url, open_timeout=5) as websocket:
        await websocket.send("through no proxy")
        return await asyncio.wait_for(websocket.recv(), 5)


def test_loopback_connections_bypass_a_machine_wide_proxy(dead_proxy, echo_server):
    bypass_proxies_for_loopback()
    assert asyncio.run(echo_once(echo_server.url)) == "Server: through no proxy"
    for variable in ("no_proxy", "NO_PROXY"):
        assert "127.0.0.1" in os.environ[variable].split(","), variable
        assert "localhost" in os.environ[variable].split(","), variable


def test_loopback_bypass_keeps_the_existing_entries_of_both_spellings(dead_proxy):
    dead_proxy.setenv("no_proxy", "example.com, .school.internal")
    dead_proxy.setenv("NO_PROXY", "intranet.example")
    bypass_proxies_for_loopback()
    for variable in ("no_proxy", "NO_PROXY"):
        entries = os.environ[variable].split(",")
        for kept in ("example.com", ".school.internal", "intranet.example", "127.0.0.1", "localhost"):
            assert kept in entries, (variable, entries)
        assert len(entries) == len(set(entries)), entries


def test_loopback_bypass_twice_lists_each_host_once(dead_proxy):
    bypass_proxies_for_loopback()
    once = os.environ["no_proxy"]
    bypass_proxies_for_loopback()
    assert os.environ["no_proxy"] == os.environ["NO_PROXY"] == once
    assert once.split(",").count("127.0.0.1") == 1


LESSON_CELL_UNDER_A_PROXY = """
import asyncio
import wstutorial
from websockets.asyncio.client import connect

async def main(url):
    async with connect(url) as websocket:
        await websocket.send("hello")
        print(await websocket.recv())

with wstutorial.serve_in_background(wstutorial.echo) as server:
    asyncio.run(main(server.url))
"""


def test_importing_wstutorial_is_enough_for_a_lesson_cell_to_bypass_the_hubs_proxy():
    proxied = {variable: DEAD_PROXY for variable in PROXY_VARIABLES}
    environment = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
    result = subprocess.run(
        [sys.executable, "-c", LESSON_CELL_UNDER_A_PROXY],
        env={**environment, **proxied},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "Server: hello", result.stderr
