"""How the helper's server writes: answers to a backlog leave together, in order, flow control intact.

serve_in_background gathers the answers to messages that arrived together into one socket write
(see `BatchedWritesConnection`); these tests hold it to what websockets guarantees without it.
"""

from __future__ import annotations

import base64
import os
import socket
import time

import pytest
from websockets.sync.client import connect

from helpers import wait_until
from wstutorial import echo, loop

pytestmark = pytest.mark.usefixtures("english")


def open_raw(port):
    """A plain socket that has done the opening handshake, and what came after the server's answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(4096)
    answer, _, rest = received.partition(b"\r\n\r\n")
    assert b" 101 " in answer
    return sock, rest


def client_frame(payload: bytes) -> bytes:
    """A masked binary frame; the all-zero mask key leaves the payload as it is."""
    if len(payload) < 126:
        length = bytes([0x80 | len(payload)])
    else:
        length = bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
    return bytes([0x82]) + length + b"\0\0\0\0" + payload


def counting_writes(websocket, writes):
    """Record every socket write of this connection in `writes`."""
    write = websocket.transport.write

    def counted(data):
        writes.append(bytes(data))
        write(data)

    websocket.transport.write = counted


def answering_in_writes(start_server, messages):
    """Send `messages` to an echo in one TCP write; return the sizes of the server's socket writes."""
    writes = []

    async def echo_counting_writes(websocket):
        counting_writes(websocket, writes)
        await websocket.send("ready")
        async for message in websocket:
            await websocket.send(message)

    server = start_server(echo_counting_writes, compression=None)
    sock, received = open_raw(server.port)
    with sock:
        while b"ready" not in received:  # it may have come with the handshake's answer
            received += sock.recv(4096)
        writes.clear()
        sock.sendall(b"".join(client_frame(message) for message in messages))
        expected = sum(len(message) + (2 if len(message) < 126 else 4) for message in messages)
        received = 0
        while received < expected:
            received += len(sock.recv(65536))
    return [len(data) for data in writes]


def test_fifty_messages_that_arrive_together_are_answered_in_one_write(start_server):
    writes = answering_in_writes(start_server, [b"%d" % number for number in range(50)])
    assert len(writes) == 1


def test_a_backlog_of_large_answers_leaves_in_pieces_of_write_limit_so_flow_control_sees_them(start_server):
    # 40 answers of 8 KiB: gathered up to websockets' write_limit (32 KiB), then written out.
    writes = answering_in_writes(start_server, [b"x" * 8192] * 40)
    assert len(writes) > 1 and max(writes) <= 32 * 1024 + 8192 + 4


def test_one_message_at_a_time_is_answered_at_once_without_waiting_for_the_turn_to_end(start_server):
    written_before_send_returned = []

    async def echo_watching_writes(websocket):
        writes = []
        counting_writes(websocket, writes)
        async for message in websocket:
            await websocket.send(message)
            written_before_send_returned.append(any(data.endswith(message.encode()) for data in writes))

    server = start_server(echo_watching_writes, compression=None)  # the answer's bytes as sent
    with connect(server.url, open_timeout=5, ping_interval=None) as client:
        for number in range(3):
            client.send(f"message {number}")
            assert client.recv(timeout=5) == f"message {number}"
    assert written_before_send_returned == [True] * 3


def test_pipelined_messages_are_all_answered_in_order(start_server):
    server = start_server(echo)
    with connect(server.url, open_timeout=5, ping_interval=None, max_queue=None) as client:
        for number in range(2_000):
            client.send(str(number))
        replies = [client.recv(timeout=5) for _ in range(2_000)]
    assert replies == [f"Server: {number}" for number in range(2_000)]


def test_a_client_that_stops_reading_makes_send_wait_and_the_loop_keeps_running(start_server):
    sent = []
    total = 20_000  # 80 MB in all: far more than loopback socket buffers hold

    async def flood(websocket):
        for number in range(total):
            await websocket.send(b"x" * 4096)
            sent.append(number)

    server = start_server(flood)
    sock, _ = open_raw(server.port)
    with sock:
        # The client reads nothing more: the server's buffers fill up and send() must wait.
        assert wait_until(lambda: sent, timeout=5)
        time.sleep(1.0)
        assert len(sent) < total, "send() never waited for a client that does not read"
        assert loop.is_responsive(), "the handler kept the loop busy instead of waiting"
