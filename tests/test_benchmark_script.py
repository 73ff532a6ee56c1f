"""benchmarks/servers.py works: its client, its servers and its table, on tiny runs (nothing is timed)."""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

from benchmarks import servers as bench
from wstutorial import echo, serve_in_background
from wstutorial.frames import Opcode, encode_frame

pytestmark = pytest.mark.usefixtures("english")

TINY = {"round_trips": 20, "pipelined": 200, "warmup": 100}


def test_take_frames_counts_whole_data_frames_only_and_keeps_the_rest():
    reply = bytes([0x81, 3]) + b"abc"  # a server's text frame: unmasked
    ping = bytes([0x89, 0])
    buffer = bytearray(reply + ping + encode_frame(Opcode.TEXT, "hi", mask_key=bench.MASK) + reply[:3])
    assert bench.take_frames(buffer) == 2  # the ping is skipped, the half frame waits
    assert buffer == bytearray(reply[:3])
    buffer += reply[3:]
    assert bench.take_frames(buffer) == 1 and not buffer


def test_take_frames_stops_the_run_at_a_close_frame():
    with pytest.raises(ConnectionError, match="closed"):
        bench.take_frames(bytearray([0x88, 2, 0x03, 0xE8]))


def test_the_client_talks_to_the_helper_and_reports_each_measurement():
    with serve_in_background(echo) as server:
        result = bench.measure(server.port, websocket=True, server_pid=os.getpid(), **TINY)
    assert result["deflate"] is True  # websockets accepts the browser-like offer by default
    assert 0 < result["p50"] <= result["p99"] and result["rate"] > 0
    if bench.cpu_seconds(os.getpid()) is not None:  # Linux: the server's CPU time per message
        assert result["cpu_sequential"] > 0 and result["cpu_pipelined"] > 0


def test_the_client_checks_the_echo_in_full_compressed_or_not():
    for options in ({}, {"compression": None}):
        with serve_in_background(echo, **options) as server, bench.LightClient(server.port) as client:
            client.check_echo(b"Server: " + bench.MESSAGE)
            with pytest.raises(AssertionError, match="expected"):
                client.check_echo(b"something else")


def test_the_client_refuses_a_handshake_whose_accept_key_is_wrong():
    def wrong_accept(connection, request, response):
        del response.headers["Sec-WebSocket-Accept"]
        response.headers["Sec-WebSocket-Accept"] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455's, for another key

    with serve_in_background(echo, process_response=wrong_accept) as server:
        with pytest.raises(ConnectionError, match="wrong Sec-WebSocket-Accept"):
            bench.LightClient(server.port)


def test_a_node_server_whose_npm_install_fails_becomes_a_skipped_row(tmp_path, monkeypatch):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    (tmp_path / "node").symlink_to(node)
    (tmp_path / "npm").write_text("#!/bin/sh\necho 'npm error code ENOTFOUND' >&2\nexit 1\n", encoding="utf-8")
    (tmp_path / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("WSTUTORIAL_NODE_DIR", str(tmp_path / "fresh"))
    server = bench.start_node_server(bench.Server("node", "node"), console_log=True)
    assert server.skipped.startswith(f"skipped: npm could not install ws into {tmp_path / 'fresh'} (exit code 1)")
    assert "\n" not in server.skipped and server.node is None


def test_the_same_client_measures_the_tcp_floor():
    listener = bench.tcp_echo_server()
    try:
        result = bench.measure(listener.getsockname()[1], websocket=False, **TINY)
    finally:
        listener.close()
    assert result["deflate"] is False and result["rate"] > 0


@pytest.mark.parametrize(
    ("kind", "loop", "deflate"),
    [("helper:no-compression", "asyncio", False), ("helper:unbatched", "asyncio", True),
     ("helper:uvloop", "uvloop", True)],
)
def test_each_helper_variant_serves_from_its_own_process(kind, loop, deflate):
    if loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
        pytest.skip("uvloop is not installed (the bench extra installs it)")
    server = bench.start_python_server(bench.Server(kind, kind))
    try:
        assert server.loop == loop
        assert bench.measure(server.port, websocket=True, **TINY)["deflate"] is deflate
    finally:
        server.stop()
    assert server.process.returncode == 0


def test_the_table_gives_ratios_to_node_and_to_the_floor():
    servers = [bench.Server("tcp", "floor", websocket=False), bench.Server("node", "node"),
               bench.Server("helper", "helper"), bench.Server("node-quiet", "quiet", skipped="skipped: no node")]
    cpu = {"cpu_sequential": None, "cpu_pipelined": None}
    runs = {
        "tcp": [{"p50": 1e-5, "p99": 2e-5, "rate": 1_000_000, "deflate": False, **cpu}],
        "node": [{"p50": 2e-5, "p99": 4e-5, "rate": 100_000, "deflate": False, **cpu}],
        "helper": [{"p50": 3e-5, "p99": 4e-5, "rate": 50_000, "deflate": True, **cpu},
                   {"p50": 5e-5, "p99": 8e-5, "rate": 70_000, "deflate": True, **cpu},
                   {"p50": 4e-5, "p99": 6e-5, "rate": 60_000, "deflate": True,
                    "cpu_sequential": 2e-5, "cpu_pipelined": 1e-5}],
    }
    rows = {row[0]: row for row in bench.table(servers, runs)}
    # helper medians: p50 40 µs, p99 60 µs, 60,000 msg/s; CPU known in one run only
    assert rows["helper"][2:] == (
        "yes", "40", "60", "2.00", "4.00", "1.50", "3.00", "60,000", "0.60", "0.06", "20.0", "10.0"
    )
    assert rows["node"][-2:] == ("-", "-")
    assert rows["node"][5] == "1.00" and rows["floor"][6] == "1.00"
    assert rows["quiet"] == ("quiet", "skipped: no node")
