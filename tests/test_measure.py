"""Lesson 03's measurements: bytes counted exactly, every message answered, servers that stop cleanly."""

from __future__ import annotations

import asyncio
import runpy
import socket
import time

import pytest
from helpers import wait_until
from websockets.asyncio.client import connect

from tools.notebooks import NOTEBOOKS
from wstutorial import echo
from wstutorial.httpbaselines import (
    BROWSER,
    HOLD_SECONDS,
    MINIMAL,
    HttpBaselineServer,
    _Mailbox,
    keep_alive_polling,
    long_poll_once,
    long_polling,
    new_request_per_message,
    new_session,
    serve_http_baselines,
)
from wstutorial.measure import CountingSocket, Meter, bytes_table, check_frame_size, measure, plot_bytes, plot_latency

pytestmark = pytest.mark.usefixtures("english")

MESSAGES = [f"hello {i:03d}" for i in range(50)]


@pytest.fixture
def http_server():
    server = HttpBaselineServer().start()
    yield server
    server.stop()


async def over_websocket(url, meter, messages, headers):
    """The lesson's WebSocket exchange."""
    sock = await meter.connect(url)
    async with connect(url, sock=sock, compression=None, user_agent_header=headers.user_agent,
                       additional_headers=headers.handshake) as websocket:
        replies = []
        with meter.per_message():
            for message in messages:
                with meter.round_trip():
                    await websocket.send(message)
                    replies.append(await websocket.recv())
    return replies


@pytest.fixture
def methods(http_server, start_server):
    echo_server = start_server(echo)
    return {
        "new request per message": (new_request_per_message, http_server.url),
        "keep-alive polling": (keep_alive_polling, http_server.url),
        "long polling": (long_polling, http_server.url),
        "WebSocket": (over_websocket, echo_server.url),
    }


def run_method(methods, name, messages=MESSAGES, headers=MINIMAL):
    exchange, url = methods[name]
    return asyncio.run(measure(name, exchange, url, messages, headers))


# --- counting ------------------------------------------------------------------------------------


def send_with_sendall(sock, data):
    sock.sendall(data)


def send_with_send(sock, data):
    while data:
        data = data[sock.send(data[:10]):]  # small writes: the count must add up across them


def send_with_sendmsg(sock, data):
    assert sock.sendmsg([data[:-2], data[-2:]]) == len(data)  # head and body, as writelines() does


def receive_with_recv(sock):
    received = b""
    while chunk := sock.recv(7):  # small reads: the count must add up across them
        received += chunk
    return received


def receive_with_recv_into(sock):
    received, buffer = b"", bytearray(7)
    while n := sock.recv_into(buffer):
        received += buffer[:n]
    return received


@pytest.mark.parametrize(("send", "receive"), [(send_with_sendall, receive_with_recv),
                                               (send_with_send, receive_with_recv_into),
                                               (send_with_sendmsg, receive_with_recv)])
def test_the_counting_socket_counts_a_known_request_and_its_response_exactly(http_server, send, receive):
    request = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi".encode()
    sock = CountingSocket(record=True)
    sock.connect(("127.0.0.1", http_server.port))
    send(sock, request)
    response = receive(sock)
    sock.close()
    assert response.startswith(b"HTTP/1.1 200 OK\r\n") and response.endswith(b"\r\n\r\nServer: hi")
    assert (sock.sent, sock.received) == (len(request), len(response))
    assert sock.chunks == [("→", request), ("←", response)]
    assert (http_server.bytes_received, http_server.bytes_sent) == (len(request), len(response))


def test_the_counting_socket_counts_what_a_partial_send_really_sent():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        sock = CountingSocket()
        sock.connect(listener.getsockname())
        with sock, listener.accept()[0]:  # a peer that never reads: the buffers fill up
            sock.setblocking(False)
            sent = sock.send(b"x" * 50_000_000)
            assert 0 < sent < 50_000_000
            assert sock.sent == sent


@pytest.mark.parametrize("exchange", [new_request_per_message, keep_alive_polling, long_polling])
def test_the_client_counts_what_the_server_counts(http_server, exchange):
    meter = Meter()
    asyncio.run(exchange(http_server.url, meter, MESSAGES, BROWSER))
    assert wait_until(lambda: http_server.bytes_received == meter.sent)
    assert (meter.sent, meter.received) == (http_server.bytes_received, http_server.bytes_sent)


# --- every method delivers -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["new request per message", "keep-alive polling", "long polling", "WebSocket"])
@pytest.mark.parametrize("headers", [MINIMAL, BROWSER], ids=["minimal", "browser"])
def test_each_method_delivers_every_reply_in_order(methods, name, headers):
    exchange, url = methods[name]
    replies = asyncio.run(exchange(url, Meter(), MESSAGES, headers))
    assert replies == [f"Server: {m}" for m in MESSAGES]


def test_one_message_is_enough_to_measure(methods):
    result = run_method(methods, "WebSocket", ["hi"])
    assert result.p50 == result.p99 == result.latencies[0]


def test_each_method_times_every_message(methods):
    for name in methods:
        result = run_method(methods, name)
        assert len(result.latencies) == result.count == len(MESSAGES)
        assert 0 < result.p50 <= result.p99
        assert result.per_second > 0


async def replies_out_of_order(url, meter, messages, headers):
    replies = await new_request_per_message(url, meter, messages, headers)
    return replies[::-1]


def test_measure_refuses_replies_out_of_order(http_server):
    with pytest.raises(AssertionError, match="message 0 was 'hello 000'; expected the reply 'Server: hello 000'"):
        asyncio.run(measure("reversed", replies_out_of_order, http_server.url, MESSAGES, MINIMAL))


async def replies_missing(url, meter, messages, headers):
    return (await keep_alive_polling(url, meter, messages, headers))[:-1]


def test_measure_refuses_a_missing_reply(http_server):
    with pytest.raises(AssertionError, match="49 replies for 50 messages"):
        asyncio.run(measure("lossy", replies_missing, http_server.url, MESSAGES, MINIMAL))


async def uncounted(url, meter, messages, headers):
    async with connect(url) as websocket:  # its own socket: the meter sees nothing
        with meter.per_message():
            for message in messages:
                await websocket.send(message)
            return [await websocket.recv() for _ in messages]


async def counted_socket_unused(url, meter, messages, headers):
    await meter.connect(url)  # opened, then forgotten: connect() below makes its own
    return await uncounted(url, meter, messages, headers)


@pytest.mark.parametrize("exchange", [uncounted, counted_socket_unused])
def test_measure_says_so_when_the_exchange_bypasses_the_meter(start_server, exchange):
    with pytest.raises(RuntimeError, match=r"await meter.connect\(url\)"):
        asyncio.run(measure("bypass", exchange, start_server(echo).url, MESSAGES, MINIMAL))


# --- what the bytes say --------------------------------------------------------------------------


@pytest.mark.parametrize("length", [9, 117, 118, 200])
def test_websocket_bytes_per_message_follow_the_frame_formula(methods, length):
    result = run_method(methods, "WebSocket", ["x" * length] * 10)
    up = 2 + (2 if length >= 126 else 0) + 4 + length  # masked, from the client
    reply = length + len("Server: ")
    down = 2 + (2 if reply >= 126 else 0) + reply
    assert (result.sent_per_message, result.received_per_message) == (up, down)


def test_websocket_handshake_and_close_are_counted_apart_from_the_messages(methods):
    one, many = run_method(methods, "WebSocket", MESSAGES[:1]), run_method(methods, "WebSocket", MESSAGES)
    assert one.setup == many.setup > 300  # handshake (two HTTP heads) + close frames (8 + 4)
    assert many.sent + many.received == len(MESSAGES) * (15 + 19)


@pytest.mark.parametrize("headers", [MINIMAL, BROWSER], ids=["minimal", "browser"])
def test_every_http_method_carries_more_bytes_per_message_than_websocket(methods, headers):
    results = {name: run_method(methods, name, headers=headers) for name in methods}
    websocket = results.pop("WebSocket")
    for name, result in results.items():
        assert result.overhead_per_message > 5 * websocket.overhead_per_message, name
    assert results["keep-alive polling"].requests == results["long polling"].requests == 2 * len(MESSAGES)
    assert results["new request per message"].connections == len(MESSAGES)


def test_browser_headers_cost_more_than_minimal_ones_for_http_but_not_for_websocket_messages(methods):
    for name in methods:
        minimal, browser = run_method(methods, name, headers=MINIMAL), run_method(methods, name, headers=BROWSER)
        if name == "WebSocket":
            assert browser.bytes_per_message == minimal.bytes_per_message
            assert browser.setup > minimal.setup  # the headers travel once, in the handshake
        else:
            assert browser.sent_per_message > minimal.sent_per_message + 400


def test_bytes_per_message_are_the_same_on_every_run(methods):
    first = [run_method(methods, name) for name in methods]
    second = [run_method(methods, name) for name in methods]
    assert bytes_table(first) == bytes_table(second)
    assert "new request per message" in bytes_table(first).splitlines()[2]


def test_the_plots_draw_every_measurement_and_show_as_png(methods):
    results = [run_method(methods, name) for name in methods]
    bars, curves = plot_bytes(results), plot_latency(results)
    assert len(bars.figure.axes[0].patches) == 2 * len(results)  # the message, and the overhead
    assert len(curves.figure.axes[0].lines) == len(results)
    for chart in (bars, curves):
        assert chart._repr_png_().startswith(b"\x89PNG")
    assert repr(bars) == "Bytes on the wire per message (both directions; set-up not included)"


# --- long polling and the server -----------------------------------------------------------------


async def held_then_pushed(server, session, text):
    waiting = asyncio.ensure_future(long_poll_once(server.url, session))
    await asyncio.sleep(0.3)
    held = not waiting.done()
    await asyncio.to_thread(server.push, session, text)
    return held, await asyncio.wait_for(waiting, 5)


def test_long_polling_delivers_a_server_push(http_server):
    held, pushed = asyncio.run(held_then_pushed(http_server, new_session(), "news nobody asked for"))
    assert held, "the server answered a long poll before it had anything to say"
    assert pushed == "news nobody asked for"


async def leave_a_long_poll(url, session):
    waiting = asyncio.ensure_future(long_poll_once(url, session))
    await asyncio.sleep(0.2)
    waiting.cancel()  # the page closes while its long poll is held
    await asyncio.gather(waiting, return_exceptions=True)


def test_a_push_for_a_long_poll_whose_client_left_waits_for_the_next_poll(http_server):
    session = new_session()
    asyncio.run(leave_a_long_poll(http_server.url, session))
    http_server.push(session, "still here")
    assert asyncio.run(asyncio.wait_for(long_poll_once(http_server.url, session), 5)) == "still here"


def test_a_reply_taken_for_a_long_poll_whose_client_left_at_that_moment_is_kept():
    # The race the test above cannot stage: the reply is taken for a held long poll just as its
    # client leaves. Nobody reads the answer, so the mailbox must get the reply back.
    async def hold_for_a_client_that_has_left():
        mailbox = _Mailbox()
        mailbox.put("Server: still here")
        reader = asyncio.StreamReader()
        reader.feed_eof()  # the client closed its connection
        with pytest.raises(ConnectionResetError):
            await HttpBaselineServer()._hold(mailbox, reader)
        return list(mailbox.waiting)

    assert asyncio.run(hold_for_a_client_that_has_left()) == ["Server: still here"]


def test_the_http_server_answers_bad_requests_clearly_and_keeps_serving(http_server):
    for raw, status, words in [
        (b"GARBAGE\r\n\r\n", b"400", b"not an HTTP/1.x request line"),
        (b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", b"404", b"/echo, /send, /poll and /wait"),
        (b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", b"405", b"/echo takes POST, not GET"),
        (b"GET /poll HTTP/1.1\r\nHost: x\r\n\r\n", b"400", b"needs ?session=ID"),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n", b"400", b"Content-Length 'lots'"),
        (b"GET /poll?session=nobody HTTP/1.1\r\nHost: x\r\n\r\n", b"204", b"No Content"),  # nothing yet
    ]:
        with socket.create_connection(("127.0.0.1", http_server.port)) as sock:
            sock.sendall(raw)
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 " + status) and words in answer, answer
    assert asyncio.run(new_request_per_message(http_server.url, Meter(), ["ok"], MINIMAL)) == ["Server: ok"]
    assert http_server.errors == []


def test_stop_closes_held_long_polls_and_frees_the_port():
    server = HttpBaselineServer().start()
    port = server.port

    async def hold_then_stop():
        waiting = asyncio.ensure_future(long_poll_once(server.url, new_session()))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await asyncio.to_thread(server.stop)
        stopped_in = time.monotonic() - started
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(waiting, 5)
        return stopped_in

    assert asyncio.run(hold_then_stop()) < HOLD_SECONDS / 2  # it does not wait out the hold
    assert not server.running
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    # The server closed TCP first, so a TIME_WAIT entry remains: free means free with SO_REUSEADDR,
    # which every server sets.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen()


def test_running_the_server_cell_again_replaces_the_earlier_server(run_cell):
    cell = "http_server = serve_http_baselines()"
    first = run_cell(cell, serve_http_baselines=serve_http_baselines)["http_server"]
    second = run_cell(cell, serve_http_baselines=serve_http_baselines)["http_server"]
    try:
        assert not first.running and second.running
    finally:
        second.stop()


# --- the exercise ----------------------------------------------------------------------------------


def test_the_frame_exercise_waits_for_a_first_try(capsys):
    check_frame_size(None)
    assert "Not tried yet" in capsys.readouterr().out


def test_the_frame_solution_passes_its_check(capsys):
    solution = runpy.run_path(str(NOTEBOOKS / "solutions" / "03-frame-size.py"))["frame_size"]
    check_frame_size(solution)
    assert "✓" in capsys.readouterr().out


def short_lengths_only(payload_length, masked):
    return 2 + (4 if masked else 0) + payload_length


def test_the_frame_check_explains_the_126_form():
    with pytest.raises(AssertionError, match="126-byte message from the server.*2 more bytes carry the length"):
        check_frame_size(short_lengths_only)


def no_mask(payload_length, masked):
    return 2 + (2 if 126 <= payload_length < 65536 else 8 if payload_length >= 65536 else 0) + payload_length


def test_the_frame_check_explains_the_mask():
    with pytest.raises(AssertionError, match="0-byte message from the client.*4-byte masking key"):
        check_frame_size(no_mask)


def no_64_bit_form(payload_length, masked):
    return 2 + (4 if masked else 0) + (2 if payload_length >= 126 else 0) + payload_length


def test_the_frame_check_explains_the_127_form():
    with pytest.raises(AssertionError, match="65536-byte message.*8 more bytes"):
        check_frame_size(no_64_bit_form)


def test_the_frame_check_wants_a_function():
    with pytest.raises(TypeError, match="def frame_size"):
        check_frame_size(42)
