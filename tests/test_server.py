"""serve_in_background against real sockets: start, echo, stop, restart, bad clients, busy ports."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import os
import socket
import ssl
import struct
import threading
import time

import pytest
from websockets.asyncio.client import connect as async_connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK, InvalidStatus
from websockets.protocol import State
from websockets.sync.client import connect
from websockets.uri import parse_uri

import wstutorial
from helpers import wait_until
from wstutorial import PortInUseError, echo, log, serve_in_background
from wstutorial.closes import close_details
from wstutorial.loop import get_loop
from wstutorial.reruns import started_before

pytestmark = pytest.mark.usefixtures("english")


# Helpers. Test clients run without keepalive (ping_interval=None): websockets' keepalive thread
# outlives close() for a moment and would blur the thread count of the leak test.


def round_trip(url, text):
    with connect(url, open_timeout=5, ping_interval=None) as client:
        client.send(text)
        return client.recv(timeout=5)


def refuses_connections(port, host="127.0.0.1"):
    try:
        socket.create_connection((host, port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def open_fds():
    gc.collect()  # count what is leaked, not what merely awaits the cycle collector
    return len(os.listdir("/proc/self/fd"))


def background_tasks():
    """The tasks pending on the helper's background loop (the one asking excluded)."""

    async def others():
        me = asyncio.current_task()
        return {task for task in asyncio.all_tasks() if task is not me}

    return asyncio.run_coroutine_threadsafe(others(), get_loop()).result(5)


class RawClient:
    """A WebSocket client over a plain socket, driven by websockets' sans-I/O protocol.

    It can do what a well-behaved client never does: send invalid UTF-8, or vanish without a
    close frame.
    """

    def __init__(self, url):
        uri = parse_uri(url)
        self.protocol = ClientProtocol(uri)
        self.sock = socket.create_connection((uri.host, uri.port), timeout=5)
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        while self.protocol.state is State.CONNECTING:
            self._receive()
        assert self.protocol.state is State.OPEN, self.protocol.handshake_exc

    def _flush(self):
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)

    def _receive(self):
        data = self.sock.recv(65536)
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        self._flush()
        return bool(data)

    def send_text_payload(self, payload: bytes):
        self.protocol.send_text(payload)
        self._flush()

    def close_code_received(self):
        while self.protocol.close_rcvd is None and self._receive():
            pass
        assert self.protocol.close_rcvd is not None, "the server closed TCP without a close frame"
        return self.protocol.close_rcvd.code

    def vanish(self, reset):
        """Drop the connection with no close frame: RST if `reset`, else a plain FIN."""
        if reset:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()


@contextlib.contextmanager
def bystander(url):
    """A second client, connected before the trouble; it must still be served afterwards."""
    with connect(url, open_timeout=5, ping_interval=None) as client:
        client.send("before")
        assert client.recv(timeout=5) == "Server: before"
        yield client
        client.send("still here")
        assert client.recv(timeout=5) == "Server: still here"


# Starting.


def test_returns_once_listening_with_the_real_port_in_the_url(start_server):
    server = start_server(echo)
    # No sleep, no retry: the port accepts connections as soon as serve_in_background returns.
    socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
    assert server.port != 0
    assert server.url == f"ws://127.0.0.1:{server.port}"
    assert server.running
    assert server in wstutorial.running_servers()


def test_url_says_wss_when_serving_tls(start_server):
    # Starting needs no certificate yet (only a handshake would), so a bare context will do.
    server = start_server(echo, ssl=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
    assert server.url == f"wss://127.0.0.1:{server.port}"


def test_binds_127_0_0_1_only_by_default(start_server):
    server = start_server(echo)
    assert server.host == "127.0.0.1"
    # 127.0.0.2 is loopback too on Linux: a server bound to all addresses would answer there.
    assert refuses_connections(server.port, host="127.0.0.2")


def test_echo_replies_server_prefix_and_logs_in_order(echo_server):
    assert round_trip(echo_server.url, "hello") == "Server: hello"
    assert echo_server.log == ["Client connected", "Received: hello"]


# Stopping and restarting.


def test_stop_is_idempotent(start_server):
    server = start_server(echo)
    server.stop()
    server.stop()
    assert not server.running
    assert server not in wstutorial.running_servers()
    assert "stopped" in repr(server)


def test_stop_closes_open_connections_with_1001(echo_server):
    with connect(echo_server.url, open_timeout=5, ping_interval=None) as client:
        client.send("hello")
        assert client.recv(timeout=5) == "Server: hello"
        echo_server.stop()
        with pytest.raises(ConnectionClosedOK) as closed:
            client.recv(timeout=5)
    assert closed.value.rcvd.code == 1001


def test_a_normal_stop_waits_for_handlers_and_cancels_none(echo_server):
    with connect(echo_server.url, open_timeout=5, ping_interval=None) as client:
        client.send("hello")
        assert client.recv(timeout=5) == "Server: hello"
        echo_server.stop()
    assert not any("did not return" in entry for entry in echo_server.log), echo_server.log


@pytest.mark.parametrize("scheme", ["ws", "wss"])
def test_stop_from_a_running_event_loop_returns_quickly_and_its_clients_still_get_1001(
    scheme, start_server, server_context, trusting
):
    # A notebook cell calls stop() on the kernel's event loop, where its own clients live: until
    # stop() returns, they cannot answer the close frame (nor, over TLS, the TLS shutdown).
    tls = {"ssl": server_context} if scheme == "wss" else {}
    echo_server = start_server(echo, **tls)

    async def client_on_the_blocked_loop():
        async with async_connect(
            echo_server.url, open_timeout=5, ping_interval=None, **({"ssl": trusting} if tls else {})
        ) as client:
            await client.send("hello")
            assert await client.recv() == "Server: hello"
            started = time.monotonic()
            echo_server.stop()  # blocks this loop, as a cell does
            stopped_in = time.monotonic() - started
            with pytest.raises(ConnectionClosedOK) as closed:
                await asyncio.wait_for(client.recv(), 5)
            return stopped_in, closed.value.rcvd.code

    stopped_in, code = asyncio.run(client_on_the_blocked_loop())
    assert stopped_in < 2  # not STOP_TIMEOUT (5 s) waiting for an answer that cannot come
    assert code == 1001
    assert echo_server.log == ["Client connected", "Received: hello"]  # nothing cancelled, nothing "lost"


def test_stop_reads_the_close_frame_of_a_client_whose_backlog_paused_reading(start_server):
    # The handler is stuck sending to a client that is not reading yet, so the messages the client
    # sent pile up and websockets stops reading from the socket. The client reads after all when
    # the server stops, and answers the close frame: stop() must read that answer.
    async def big_answers(websocket):
        async for message in websocket:
            await websocket.send(message * 1000)

    server = start_server(big_answers)
    client = RawClient(server.url)
    for _ in range(100):
        client.send_text_payload(b"x" * 1000)  # 100 kB asked, 100 MB of answers
    assert wait_until(lambda: server.connections)
    (connection,) = server.connections
    assert wait_until(lambda: connection.recv_messages.paused)  # websockets stopped reading
    stopping = threading.Thread(target=server.stop)
    started = time.monotonic()
    stopping.start()
    assert client.close_code_received() == 1001  # reads the backlog, then answers the close
    while client._receive():  # until the server ends the TCP connection
        pass
    client.close()
    stopping.join(10)
    assert time.monotonic() - started < 2
    assert connection.close_code == 1001  # the client's answer, read (1006 would mean: never read)
    assert not any("did not return" in entry for entry in server.log), server.log


async def ignores_the_connection(websocket):
    while True:  # never awaits the connection, so never notices that it closed
        await asyncio.sleep(0.05)


def test_stop_cancels_a_handler_that_ignores_the_close(start_server):
    server = start_server(ignores_the_connection)
    with connect(server.url, open_timeout=5, ping_interval=None):
        assert wait_until(lambda: len(server.connections) == 1)
        started = time.monotonic()
        server.stop(timeout=0.5)
        assert time.monotonic() - started < 4
    assert not server.running
    assert any("did not return within 0.5 s" in entry for entry in server.log), server.log
    assert wait_until(lambda: not server.connections)


def test_stop_frees_the_port_at_once(start_server):
    server = start_server(echo)
    port = server.port
    server.stop()
    with socket.socket() as plain:
        plain.bind(("127.0.0.1", port))  # no SO_REUSEADDR: nothing at all may hold the port


def test_stop_frees_the_port_at_once_after_serving_a_client(start_server):
    server = start_server(echo)
    port = server.port
    with connect(server.url, open_timeout=5, ping_interval=None) as client:
        client.send("hello")
        assert client.recv(timeout=5) == "Server: hello"
        server.stop()
    assert refuses_connections(port)
    # The server closed TCP first (RFC 6455 says it must), so a TIME_WAIT entry remains; every
    # server binds with SO_REUSEADDR, which is what "free" means here.
    with socket.socket() as plain:
        plain.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        plain.bind(("127.0.0.1", port))
        plain.listen()


def test_start_again_on_the_same_port_after_stop(start_server):
    server = start_server(echo)
    port = server.port
    with connect(server.url, open_timeout=5, ping_interval=None) as client:
        client.send("one")
        assert client.recv(timeout=5) == "Server: one"
        server.stop()
    server.start()
    assert server.running and server.port == port
    assert round_trip(server.url, "two") == "Server: two"
    server.stop()
    again = start_server(echo, port=port)
    assert round_trip(again.url, "three") == "Server: three"


def test_with_block_stops_the_server_on_exit():
    with serve_in_background(echo) as server:
        try:
            assert round_trip(server.url, "hello") == "Server: hello"
        except BaseException:
            server.stop()
            raise
    assert not server.running
    assert refuses_connections(server.port)


def test_200_start_stop_cycles_leak_no_thread_fd_or_task():
    def cycle():
        server = serve_in_background(echo)
        try:
            assert round_trip(server.url, "ping") == "Server: ping"
        finally:
            server.stop()

    tasks_before = background_tasks()
    cycle()  # warm-up: the background loop and anything made lazily exist from here on
    baseline = threading.enumerate()
    threads, fds = len(baseline), open_fds()
    for _ in range(199):
        cycle()
    assert len(threading.enumerate()) == threads, (baseline, threading.enumerate())
    assert open_fds() <= fds + 2
    assert background_tasks() - tasks_before == set()


# Many clients.


def test_200_concurrent_clients_each_get_exactly_their_own_echoes_in_order(echo_server):
    clients, per_client = 200, 5

    async def main():
        async with contextlib.AsyncExitStack() as stack:
            sockets = await asyncio.gather(
                *(stack.enter_async_context(async_connect(echo_server.url, open_timeout=20))
                  for _ in range(clients))
            )

            async def exchange(n, ws):
                sent = [f"client {n} message {i}" for i in range(per_client)]
                for text in sent:
                    await ws.send(text)
                received = [await asyncio.wait_for(ws.recv(), 20) for _ in sent]
                assert received == [f"Server: {text}" for text in sent]

            await asyncio.gather(*(exchange(n, ws) for n, ws in enumerate(sockets)))

            # Everyone is done sending: nothing more may arrive anywhere.
            async def nothing_more(ws):
                with pytest.raises(TimeoutError):
                    extra = await asyncio.wait_for(ws.recv(), 0.3)
                    pytest.fail(f"unexpected extra message {extra!r}")

            await asyncio.gather(*(nothing_more(ws) for ws in sockets))

    asyncio.run(main())
    assert echo_server.log.count("Client connected") == clients
    assert sum(entry.startswith("Received: ") for entry in echo_server.log) == clients * per_client


# Bad clients: each one is closed alone, the server keeps serving the others.


def test_invalid_utf8_text_frame_is_closed_with_1007(echo_server):
    with bystander(echo_server.url):
        raw = RawClient(echo_server.url)
        try:
            raw.send_text_payload(b"\xff\xfe")
            assert raw.close_code_received() == 1007
        finally:
            raw.close()


def test_message_over_max_size_is_closed_with_1009(start_server):
    server = start_server(echo, max_size=1024)
    with bystander(server.url):
        with connect(server.url, open_timeout=5, ping_interval=None) as client:
            client.send("x" * 2048)
            with pytest.raises(ConnectionClosedError) as closed:
                client.recv(timeout=5)
    assert closed.value.rcvd.code == 1009


@pytest.mark.parametrize("reset", [True, False], ids=["rst", "fin"])
def test_abrupt_disconnect_is_logged_as_1006_and_the_server_keeps_serving(echo_server, reset):
    with bystander(echo_server.url):
        raw = RawClient(echo_server.url)
        assert wait_until(lambda: echo_server.log.count("Client connected") == 2)
        raw.vanish(reset)
        assert wait_until(
            lambda: any(e.startswith("Connection lost: code 1006") for e in echo_server.log)
        ), echo_server.log
    assert round_trip(echo_server.url, "after") == "Server: after"


async def fail_on_boom(websocket):
    log("Client connected")
    async for message in websocket:
        if message == "boom":
            raise ValueError("boom is not allowed")
        await websocket.send(f"Server: {message}")


def test_handler_exception_closes_that_client_with_1011_only(start_server):
    server = start_server(fail_on_boom)
    with bystander(server.url):
        with connect(server.url, open_timeout=5, ping_interval=None) as client:
            client.send("boom")
            with pytest.raises(ConnectionClosedError) as closed:
                client.recv(timeout=5)
    assert closed.value.rcvd.code == 1011
    assert len(server.errors) == 1
    assert isinstance(server.errors[0], ValueError)
    assert str(server.errors[0]) == "boom is not allowed"
    errors = [entry for entry in server.log if entry.startswith("Error in handler")]
    assert errors == [
        "Error in handler: ValueError: boom is not allowed"
        " (this client was closed with code 1011; others are still served)"
    ]
    assert round_trip(server.url, "after") == "Server: after"


def test_websockets_errors_go_to_the_server_log_not_to_stderr(start_server, capfd, caplog):
    def process_request(connection, request):
        if request.path == "/broken":
            raise ValueError("broken process_request")

    server = start_server(echo, process_request=process_request)
    with pytest.raises(InvalidStatus) as rejected:
        connect(f"{server.url}/broken", open_timeout=5, ping_interval=None)
    assert rejected.value.response.status_code == 500
    assert wait_until(lambda: "websockets: process_request failed" in server.log), server.log
    assert round_trip(server.url, "after") == "Server: after"
    assert capfd.readouterr().err == ""
    # Nothing reaches the root logger either: in a kernel, its last-resort handler prints to the cell.
    assert [r for r in caplog.records if r.name.startswith("websockets")] == []


# Busy ports.


def test_port_held_by_a_foreign_socket_raises_port_in_use(start_server):
    with socket.socket() as foreign:
        foreign.bind(("127.0.0.1", 0))
        foreign.listen()
        port = foreign.getsockname()[1]
        with pytest.raises(PortInUseError) as error:
            start_server(echo, port=port)
    message = str(error.value)
    assert str(port) in message
    assert "port=0" in message
    assert "your own server" not in message
    assert error.value.errno == errno.EADDRINUSE
    assert error.value.owner is None


def test_port_held_by_our_own_server_names_that_server(start_server):
    first = start_server(echo)
    with pytest.raises(PortInUseError) as error:
        start_server(echo, port=first.port)
    message = str(error.value)
    assert str(first.port) in message
    assert "port=0" in message
    assert first.url in message
    assert error.value.owner is first
    assert round_trip(first.url, "hello") == "Server: hello"  # the first one is untouched


def test_port_in_use_message_in_indonesian(start_server):
    first = start_server(echo)
    wstutorial.set_language("id")  # the `english` fixture restores the language
    with pytest.raises(PortInUseError) as error:
        start_server(echo, port=first.port)
    message = str(error.value)
    assert f"Port {first.port} di 127.0.0.1 sudah dipakai" in message
    assert f"oleh server Anda sendiri {first.url}" in message
    assert "Biarkan port=0" in message


# Misuse.


def sync_handler(websocket):
    pass


def test_non_async_handler_raises_type_error_naming_async_def():
    with pytest.raises(TypeError, match=r"`async def sync_handler\(websocket\): \.\.\.`"):
        serve_in_background(sync_handler)


def test_non_async_handler_error_shows_valid_async_def_for_a_nested_function():
    def handler(websocket):  # defined inside a function: its __qualname__ has "<locals>"
        pass

    with pytest.raises(TypeError) as error:
        serve_in_background(handler)
    assert "`async def handler(websocket): ...`" in str(error.value)


def test_log_outside_a_handler_raises_runtime_error():
    with pytest.raises(RuntimeError, match="serve_in_background"):
        log("hello")


# Running the same cell twice.

CELL = """
from wstutorial import serve_in_background

async def cell_handler(websocket):
    async for message in websocket:
        await websocket.send(f"Cell: {message}")

server = serve_in_background(cell_handler, port=PORT)
"""


def test_running_the_same_cell_twice_replaces_the_earlier_server(free_port, run_cell):
    first = second = None
    try:
        first = run_cell(CELL, PORT=free_port)["server"]
        with connect(first.url, open_timeout=5, ping_interval=None) as client:
            client.send("one")
            assert client.recv(timeout=5) == "Cell: one"
            # Same fixed port: this only works if the earlier server was stopped and its port freed.
            second = run_cell(CELL, PORT=free_port)["server"]
            with pytest.raises(ConnectionClosedOK) as closed:
                client.recv(timeout=5)
        assert closed.value.rcvd.code == 1001
        assert not first.running
        assert second.running and second.port == free_port
        assert second.log == [f"Stopped the earlier cell_handler server at {first.url} and started this one"]
        assert round_trip(second.url, "two") == "Cell: two"
        assert wstutorial.running_servers().count(second) == 1
        assert first not in wstutorial.running_servers()
    finally:
        for server in (first, second):
            if server is not None:
                server.stop()


def test_servers_of_the_same_handler_coexist_outside_main(start_server):
    one = start_server(echo)
    two = serve_in_background(echo)  # called from this module, not "__main__"
    try:
        assert one.running and two.running
        assert one.port != two.port
        assert round_trip(one.url, "a") == "Server: a"
        assert round_trip(two.url, "b") == "Server: b"
        assert not any(entry.startswith("Stopped the earlier") for entry in two.log)
    finally:
        two.stop()


def test_nothing_is_printed_from_the_server_thread_whatever_clients_do(start_server, capfd):
    # A background thread's output lands in whichever notebook cell runs at the time.
    async def fails(websocket):
        async for message in websocket:
            raise ValueError(message)

    server = start_server(fails, max_size=16)
    for text in ("boom", "x" * 64):
        with connect(server.url, ping_interval=None) as client:
            client.send(text)
            with pytest.raises(ConnectionClosedError):
                client.recv(timeout=5)
    assert wait_until(lambda: len(server.log) >= 2)
    assert capfd.readouterr() == ("", "")


def test_a_stopped_server_leaves_the_re_run_registry(run_cell):
    # cell_keys on the same line as the call: the keys serve_in_background filed the server under.
    cell = (
        "from wstutorial import serve_in_background\n"
        "from wstutorial.reruns import cell_keys\n"
        "async def registered_handler(websocket):\n"
        "    await websocket.wait_closed()\n"
        "server = serve_in_background(registered_handler); "
        "keys = cell_keys('server', depth=0, notebook_name='registered_handler')\n"
    )
    namespace = run_cell(cell)
    server, keys = namespace["server"], namespace["keys"]
    run_cell("")  # a later execution: from there, the server counts as started before
    try:
        assert started_before(keys) == [server]
    finally:
        server.stop()
    assert started_before(keys) == []



def test_a_server_restarted_by_hand_is_still_replaced_when_its_cell_runs_again(run_cell):
    cell = (
        "from wstutorial import serve_in_background\n"
        "async def restarted_handler(websocket):\n"
        "    await websocket.wait_closed()\n"
        "server = serve_in_background(restarted_handler)\n"
    )
    first = run_cell(cell)["server"]
    try:
        run_cell("server.stop()\nserver.start()\n", server=first)  # as a lesson restarting its server does
        assert first.running
        second = run_cell(cell)["server"]
        try:
            assert not first.running
            assert second.running
        finally:
            second.stop()
    finally:
        first.stop()


BUSY_PORT_CELL = """
from wstutorial import serve_in_background

async def busy_port_handler(websocket):
    async for message in websocket:
        await websocket.send(f"Cell: {message}")

server = serve_in_background(busy_port_handler, port=PORT)
"""


def test_re_running_a_cell_on_a_busy_port_keeps_the_earlier_server(run_cell):
    first = None
    try:
        first = run_cell(BUSY_PORT_CELL, PORT=0)["server"]
        with socket.socket() as foreign:
            foreign.bind(("127.0.0.1", 0))
            foreign.listen()
            busy = foreign.getsockname()[1]
            with pytest.raises(PortInUseError) as error:
                run_cell(BUSY_PORT_CELL, PORT=busy)
        assert str(busy) in str(error.value)
        # The new server is started first; the earlier one is stopped only once that worked.
        assert first.running
        assert first in wstutorial.running_servers()
        assert round_trip(first.url, "still here") == "Cell: still here"
    finally:
        if first is not None:
            first.stop()


def test_stop_returns_even_when_a_client_stopped_reading(start_server):
    async def flood(websocket):
        while True:
            await websocket.send("x" * 1_000_000)

    server = start_server(flood)
    uri = parse_uri(server.url)
    protocol = ClientProtocol(uri)
    with socket.create_connection((uri.host, uri.port)) as raw:
        protocol.send_request(protocol.connect())
        for data in protocol.data_to_send():
            raw.sendall(data)
        while not protocol.events_received():  # read the handshake, then never again
            protocol.receive_data(raw.recv(4096))
        server.stop(timeout=0.5)
        assert not server.running
        assert refuses_connections(server.port)


def test_start_on_a_running_server_changes_nothing(echo_server):
    port = echo_server.port
    echo_server.start()
    assert echo_server.port == port
    assert round_trip(echo_server.url, "still") == "Server: still"


FACTORY_CELLS = (
    """
from wstutorial import serve_in_background

def make_handler(name):
    async def handler(websocket):
        async for message in websocket:
            await websocket.send(f"{name}: {message}")
    return handler
""",
    "alice = serve_in_background(make_handler('Alice'))",
    "bob = serve_in_background(make_handler('Bob'))",
)


def test_servers_from_one_handler_factory_in_different_cells_coexist(run_cell):
    namespace = run_cell(FACTORY_CELLS[0])
    alice = run_cell(FACTORY_CELLS[1], **namespace)["alice"]
    bob = run_cell(FACTORY_CELLS[2], **namespace)["bob"]
    try:
        assert alice.running and bob.running
        assert round_trip(alice.url, "hi") == "Alice: hi"
        assert round_trip(bob.url, "hi") == "Bob: hi"
    finally:
        alice.stop()
        bob.stop()


def test_servers_started_in_one_loop_of_one_cell_all_keep_running(run_cell):
    servers = run_cell("from wstutorial import echo, serve_in_background\n"
                       "servers = [serve_in_background(echo) for _ in range(3)]")["servers"]
    try:
        assert [server.running for server in servers] == [True] * 3
    finally:
        for server in servers:
            server.stop()


def test_a_dropped_connection_is_described_in_the_learners_language():
    dropped = ConnectionClosedError(None, None)
    assert close_details(dropped, "id") == {"code": "1006", "reason": " (tanpa frame penutup)"}
    assert close_details(dropped, "en") == {"code": "1006", "reason": " (no close frame)"}


def test_stop_does_not_wait_for_a_socket_that_never_sends_a_request(start_server):
    # Browsers open spare sockets ahead of need; websockets would wait open_timeout (10 s) for their
    # request, and on Python 3.12 asyncio's wait_closed() waits for them too.
    server = start_server(echo)
    with socket.create_connection((server.host, server.port)) as idle, connect(server.url) as client:
        client.send("hello")
        assert client.recv(timeout=5) == "Server: hello"
        server.stop()
        idle.settimeout(5)
        assert idle.recv(1) == b""  # closed by the server, not left to time out
    assert not any("did not return" in entry for entry in server.log), server.log  # no forced stop


def test_stop_does_not_wait_for_a_socket_still_in_its_tls_handshake(start_server, server_context):
    # Python 3.12's asyncio waits for such a socket in Server.wait_closed(), up to open_timeout,
    # where no ServerConnection can reach it yet.
    server = start_server(echo, ssl=server_context, open_timeout=20)
    with socket.create_connection((server.host, server.port)):  # no ClientHello yet
        assert wait_until(lambda: server._every_connection)
        server.stop()  # on 3.12 this raised TimeoutError after 10 s
    assert not server.running
    assert server.log == []  # no forced stop: no handler was there to cancel
