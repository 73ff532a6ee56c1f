"""ChatClient against real servers, without a Jupyter kernel (the widgets get a dummy comm)."""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import logging
import re
import socket
import threading
import time

import pytest
from websockets.server import ServerProtocol

import wstutorial.chat
import wstutorial.i18n
from helpers import wait_until
from wstutorial import NotConnectedError, echo
from wstutorial.backoff import Backoff
from wstutorial.reliable import PROTOCOL, AckingEcho

pytestmark = pytest.mark.usefixtures("english")

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def connected(client):
    assert wait_until(lambda: client.state != "connecting"), client.status
    assert client.state == "open", client.status
    return client


class StalledServer:
    """Answers one client's WebSocket handshake over a plain socket, then never reads again.

    A hung server: once the socket buffers are full, the client's sends block.
    """

    def __init__(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}"
        self._sock = None
        self._thread = threading.Thread(target=self._handshake, daemon=True)
        self._thread.start()

    def _handshake(self):
        self._listener.settimeout(10)
        self._sock, _ = self._listener.accept()
        protocol = ServerProtocol()
        while not (events := protocol.events_received()):
            data = self._sock.recv(65536)
            if not data:
                return
            protocol.receive_data(data)
        protocol.send_response(protocol.accept(events[0]))
        for data in protocol.data_to_send():
            self._sock.sendall(data)

    def close(self):
        self._thread.join(10)
        if self._sock is not None:
            self._sock.close()  # unread data: the client gets a reset and is closed at once
        self._listener.close()


# Sending and receiving.


def test_send_then_wait_for_returns_the_echo_and_shows_it(echo_server, chat):
    client = chat(echo_server.url, lang="en")
    client.send("hello")
    assert client.wait_for(1, timeout=5) == ["Server: hello"]
    assert "Message: Server: hello" in client.messages_view.value
    assert echo_server.log == ["Client connected", "Received: hello"]


def test_english_labels(echo_server, chat):
    client = chat(echo_server.url, lang="en")
    assert client.input.placeholder == "Type your message..."
    assert client.send_button.description == "Send"


def test_indonesian_client_speaks_indonesian(echo_server, chat):
    client = connected(chat(echo_server.url, lang="id"))
    assert client.input.placeholder == "Ketik pesan..."
    assert client.send_button.description == "Kirim"
    assert client.status == f"Terhubung ke server WebSocket {echo_server.url}"
    client.send("halo")
    assert client.wait_for(1, timeout=5) == ["Server: halo"]
    assert "Pesan: Server: halo" in client.messages_view.value


async def push_three(websocket):
    for n in range(3):
        await websocket.send(f"push {n}")
    await websocket.wait_closed()


def test_messages_the_server_pushes_unasked_arrive(start_server, chat):
    server = start_server(push_three)
    client = chat(server.url, lang="en")
    assert client.wait_for(3, timeout=5) == ["push 0", "push 1", "push 2"]
    for n in range(3):
        assert f"Message: push {n}" in client.messages_view.value


def sends_then_waits(message):
    async def handler(websocket):
        await websocket.send(message)
        await websocket.wait_closed()

    return handler


def test_html_in_a_message_is_shown_as_text_not_run(start_server, chat):
    server = start_server(sends_then_waits("<script>alert(1)</script>"))
    client = chat(server.url, lang="en")
    assert client.wait_for(1, timeout=5) == ["<script>alert(1)</script>"]
    assert "Message: &lt;script&gt;alert(1)&lt;/script&gt;" in client.messages_view.value
    assert "<script>" not in client.messages_view.value


def test_a_binary_message_is_shown_as_its_bytes_repr(start_server, chat):
    server = start_server(sends_then_waits(b"\x00\x01"))
    client = chat(server.url, lang="en")
    assert client.wait_for(1, timeout=5) == [b"\x00\x01"]
    assert "<div>Message: b'\\x00\\x01'</div>" in html.unescape(client.messages_view.value)


# Status.


def test_status_says_connecting_until_the_handshake_is_answered(chat):
    # A socket that listens but never answers: TCP connects, the WebSocket handshake does not.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"ws://127.0.0.1:{silent.getsockname()[1]}"
        client = chat(url, lang="en", open_timeout=0.5)
        assert client.state == "connecting"
        assert client.status.startswith(f"Connecting to {url}")
        assert wait_until(lambda: client.state == "error")
    assert f"no answer from {url} within 0.5 s" in client.status


def test_status_says_connected_with_the_url(echo_server, chat):
    client = connected(chat(echo_server.url, lang="en"))
    assert client.status == f"Connected to WebSocket server {echo_server.url}"


def test_server_stop_closes_the_client_with_1001(echo_server, chat):
    client = connected(chat(echo_server.url, lang="en"))
    echo_server.stop()
    assert wait_until(lambda: client.state == "closed"), client.status
    assert client.close_code == 1001
    assert "1001" in client.status


async def closes_with_4000_bye(websocket):
    await websocket.close(4000, "bye")


def test_status_shows_the_servers_close_code_and_reason(start_server, chat):
    server = start_server(closes_with_4000_bye)
    client = chat(server.url, lang="en")
    assert client.wait_closed(timeout=5) == 4000
    assert client.close_reason == "bye"
    assert client.status == "Connection closed: code 4000 (bye)"


async def closes_with_markup_in_the_reason(websocket):
    await websocket.close(4000, "<b>bye</b>")


def test_status_shows_markup_from_the_server_as_text(start_server, chat):
    server = start_server(closes_with_markup_in_the_reason)
    client = chat(server.url, lang="en")
    assert client.wait_closed(timeout=5) == 4000
    assert client.status == "Connection closed: code 4000 (<b>bye</b>)"
    assert "<b>" not in client.status_label.value  # the widget shows it as text


def test_a_refused_handshake_says_http_403_and_prints_nothing(start_server, chat, capfd, caplog):
    def forbid(connection, request):
        return connection.respond(403, "no")

    # A learner who turned logging on: still nothing of websockets reaches the root logger.
    caplog.set_level(logging.DEBUG, logger="websockets")
    server = start_server(echo, process_request=forbid)
    client = chat(server.url, lang="en")
    assert wait_until(lambda: client.state == "error"), client.status
    assert "refused the WebSocket handshake with HTTP 403" in client.status
    assert isinstance(client.log, list)
    assert capfd.readouterr() == ("", "")
    assert [r for r in caplog.records if r.name.startswith("websockets")] == []


def test_wait_for_on_a_closed_connection_raises_not_connected_at_once(echo_server, chat):
    client = connected(chat(echo_server.url, lang="en"))
    echo_server.stop()
    started = time.monotonic()
    with pytest.raises(NotConnectedError, match="only 0 of 1 messages"):
        client.wait_for(1, timeout=10)
    assert time.monotonic() - started < 3


def test_wrong_port_gives_an_error_status_and_send_raises(free_port, chat):
    client = chat(f"ws://127.0.0.1:{free_port}", lang="en")
    assert wait_until(lambda: client.state == "error"), client.status
    assert "Is the server running" in client.status
    assert f"ws://127.0.0.1:{free_port}" in client.status
    with pytest.raises(NotConnectedError, match="'hi'"):
        client.send("hi")
    with pytest.raises(NotConnectedError):
        client.wait_for(1, timeout=10)


def test_not_a_websocket_url_explains_the_ws_scheme(chat):
    client = chat("http://example", lang="en")
    assert wait_until(lambda: client.state == "error"), client.status
    assert "is not a WebSocket URL" in client.status
    assert "ws://" in client.status
    with pytest.raises(NotConnectedError):
        client.send("hi")


def test_wait_for_timeout_raises_timeout_error_with_a_helpful_message(echo_server, chat):
    client = connected(chat(echo_server.url, lang="en"))
    client.send("hello")
    started = time.monotonic()
    with pytest.raises(TimeoutError) as error:
        client.wait_for(2, timeout=0.3)
    assert time.monotonic() - started < 3
    message = str(error.value)
    assert "only 1 of 2 messages arrived within 0.3 s" in message
    assert f"Connected to WebSocket server {echo_server.url}" in message


def test_close_closes_with_code_1000(echo_server, chat):
    client = connected(chat(echo_server.url, lang="en"))
    client.close()
    assert client.state == "closed"
    assert client.close_code == 1000
    assert "1000" in client.status
    with pytest.raises(NotConnectedError):
        client.send("after close")


def test_close_while_still_connecting_stops_at_once(chat):
    with socket.socket() as silent:  # accepts TCP, never answers the WebSocket handshake
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        client = chat(f"ws://127.0.0.1:{silent.getsockname()[1]}", lang="en", open_timeout=30)
        assert client.state == "connecting"
        started = time.monotonic()
        client.close()
        assert time.monotonic() - started < 3
        assert client.state == "closed"
        assert client.status == "Closed before the connection opened"
        started = time.monotonic()
        with pytest.raises(NotConnectedError, match="Closed before the connection opened"):
            client.send("too late")
        assert time.monotonic() - started < 1


# The widget: Send button, Enter, display.


def test_send_button_sends_the_input_and_clears_it(echo_server, chat):
    client = connected(chat(echo_server.url, lang="en"))
    client.input.value = "hi"
    client.send_button.click()
    assert client.wait_for(1, timeout=5) == ["Server: hi"]
    assert client.input.value == ""
    assert "Message: Server: hi" in client.messages_view.value


def test_send_button_when_not_connected_keeps_the_text_and_says_not_sent(free_port, chat):
    client = chat(f"ws://127.0.0.1:{free_port}", lang="en")
    assert wait_until(lambda: client.state == "error"), client.status
    client.input.value = "keep me"
    client.send_button.click()
    assert client.input.value == "keep me"
    assert "was not sent" in client.status
    assert client.messages == []


def test_send_button_keeps_the_text_when_the_server_has_closed(start_server, chat):
    server = start_server(closes_with_4000_bye)
    client = chat(server.url, lang="en")
    client.wait_closed(timeout=5)
    client.input.value = "keep me"
    client.send_button.click()
    assert client.input.value == "keep me"
    assert "was not sent" in client.status


def test_send_button_keeps_the_text_when_the_send_fails(chat, monkeypatch):
    monkeypatch.setattr(wstutorial.chat, "SEND_TIMEOUT", 0.5)
    stalled = StalledServer()
    try:
        client = connected(chat(stalled.url, lang="en"))
        # Fill the socket buffers until a send blocks: from then on, every send times out.
        for _ in range(200):
            try:
                client.send("x" * 1_000_000)
            except TimeoutError:
                break
        else:
            pytest.fail("200 MB went into a server that never reads")
        client.input.value = "keep me"
        client.send_button.click()
        assert client.state == "open"
        assert client.input.value == "keep me"
        assert client.status.startswith("Error: ")
    finally:
        stalled.close()


def test_send_button_with_an_empty_box_sends_nothing(echo_server, chat):
    client = connected(chat(echo_server.url, lang="en"))
    client.send_button.click()
    with pytest.raises(TimeoutError):
        client.wait_for(1, timeout=0.3)
    assert echo_server.log == ["Client connected"]


def test_enter_in_the_input_sends_the_text(echo_server, chat):
    client = connected(chat(echo_server.url, lang="en"))
    client.input.value = "by enter"
    # What the front end's "submit" custom message reaches: the callbacks registered by on_msg.
    client.input._msg_callbacks(client.input, {"event": "submit"}, [])
    assert client.wait_for(1, timeout=5) == ["Server: by enter"]
    assert client.input.value == ""


def test_display_text_plain_is_stable_and_shows_only_the_url(echo_server, chat):
    client = chat(echo_server.url, lang="en")
    before = client._repr_mimebundle_()["text/plain"]
    connected(client)
    client.send("hello")
    client.wait_for(1, timeout=5)
    bundle = client._repr_mimebundle_()
    assert WIDGET_VIEW in bundle
    assert bundle[WIDGET_VIEW]["model_id"] == client.widget.model_id
    text = bundle["text/plain"]
    assert text == before
    assert echo_server.url in text
    for volatile in ("hello", "Message", "Connected", "Connecting", client.status):
        assert volatile not in text
    # Not the widget's own repr either: that lists every trait (values, children, model ids).
    for trait_dump in ("VBox", "children=", "value=", client.widget.model_id):
        assert trait_dump not in text


def test_works_from_inside_a_running_event_loop(echo_server, chat):
    # A cell runs inside the kernel's event loop; the client must not need that loop to progress.
    async def cell():
        client = chat(echo_server.url, lang="en")
        client.send("from a loop")
        return client.wait_for(1, timeout=5)

    assert asyncio.run(cell()) == ["Server: from a loop"]


# Running the same cell twice.

CHAT_CELL = """
from wstutorial import ChatClient
client = ChatClient(URL, lang="en")
"""


def test_running_the_same_cell_twice_closes_the_earlier_client(echo_server, run_cell):
    clients = []
    try:
        for _ in range(2):
            clients.append(connected(run_cell(CHAT_CELL, URL=echo_server.url)["client"]))
        first, second = clients
        assert wait_until(lambda: first.state == "closed"), first.status
        assert first.close_code == 1000
        assert second.state == "open"
        second.send("still here")
        assert second.wait_for(1, timeout=5) == ["Server: still here"]
    finally:
        for client in clients:
            client.close()


def test_clients_made_outside_a_notebook_coexist(echo_server, chat):
    one = connected(chat(echo_server.url, lang="en"))
    two = connected(chat(echo_server.url, lang="en"))
    assert one.state == two.state == "open"
    one.send("a")
    two.send("b")
    assert one.wait_for(1, timeout=5) == ["Server: a"]
    assert two.wait_for(1, timeout=5) == ["Server: b"]


def test_close_returns_even_when_the_server_stopped_reading(chat, monkeypatch):
    monkeypatch.setattr(wstutorial.chat, "SEND_TIMEOUT", 0.5)
    stalled = StalledServer()
    try:
        client = connected(chat(stalled.url, lang="en"))
        for _ in range(200):  # fill the buffers: not even a close frame can leave now
            try:
                client.send("x" * 1_000_000)
            except TimeoutError:
                break
        client.close()
        assert client.state == "closed"
    finally:
        stalled.close()


LOOP_CELL = """
from wstutorial import ChatClient
clients = [ChatClient(URL, lang="en") for _ in range(3)]
"""


def test_clients_made_in_one_run_of_a_cell_all_stay_and_a_rerun_replaces_them_all(echo_server, run_cell):
    first = run_cell(LOOP_CELL, URL=echo_server.url)["clients"]
    second = []
    try:
        assert [connected(client).state for client in first] == ["open"] * 3
        second = run_cell(LOOP_CELL, URL=echo_server.url)["clients"]
        assert [connected(client).state for client in second] == ["open"] * 3
        assert [client.state for client in first] == ["closed"] * 3
    finally:
        for client in first + second:
            client.close()


def test_pressing_send_again_while_disconnected_does_not_pile_up_the_status(echo_server, chat):
    client = connected(chat(echo_server.url, lang="id"))
    echo_server.stop()
    assert wait_until(lambda: client.state == "closed")
    client.input.value = "halo?"
    for _ in range(3):
        client.send_button.click()
    assert client.status.count("Tidak terhubung") == 1, client.status
    assert "1001" in client.status and client.input.value == "halo?"


def test_any_send_failure_from_the_button_shows_on_the_status_line(echo_server, chat, monkeypatch):
    client = connected(chat(echo_server.url, lang="en"))

    def stuck(text):
        raise wstutorial.LoopBlockedError("the background event loop is stuck")

    monkeypatch.setattr(client, "send", stuck)
    client.input.value = "hello"
    client.send_button.click()
    assert "stuck" in client.status and client.input.value == "hello"


def test_a_long_chat_shows_the_latest_messages_and_keeps_them_all(start_server, chat):
    async def chatty(websocket):
        for n in range(wstutorial.chat.SHOWN_MESSAGES + 50):
            await websocket.send(f"line {n}")
        await websocket.wait_closed()

    client = connected(chat(start_server(chatty).url, lang="en"))
    total = wstutorial.chat.SHOWN_MESSAGES + 50
    assert len(client.wait_for(total)) == total
    view = client.messages_view.value
    assert view.count("Message: line") == wstutorial.chat.SHOWN_MESSAGES
    assert f"line {total - 1}<" in view and "line 0<" not in view
    assert "50 earlier messages" in view


def test_language_names_are_not_case_sensitive_and_errors_are_bilingual():
    assert wstutorial.i18n.check_language("ID") == "id"
    with pytest.raises(ValueError, match="harus 'en' atau 'id'"):
        wstutorial.i18n.check_language("fr")


# Reconnecting (lesson 05): ChatClient(url, reconnect=True or a Backoff).

@pytest.fixture
def refused_url():
    """A URL where connecting is refused: the port is bound but not listening, and ours for the
    whole test (a port merely found free could be taken by another server meanwhile)."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"ws://127.0.0.1:{bound.getsockname()[1]}"


def fast():
    """A schedule for tests: the first retry within 0.05 s, never more than 0.4 s apart."""
    return Backoff(first_delay=0.05, factor=2, max_delay=0.4)


def test_a_reconnecting_client_comes_back_after_a_restart_and_sends_what_waited(echo_server, chat):
    # A first wait of 0.5 to 1 s: the status still shows attempt 1 when this thread gets to read it.
    client = connected(chat(echo_server.url, lang="en", reconnect=Backoff(first_delay=1, max_delay=2)))
    client.send("one")
    assert client.wait_for(1) == ["Server: one"]
    echo_server.stop()
    assert client.wait_state("reconnecting") == "reconnecting"
    assert re.fullmatch(r"Connection closed: code 1001\. Reconnecting in \d+\.\d s \(attempt 1\)", client.status)
    client.send("two")  # no error: it waits in the outbox
    assert client.pending == ["two"]
    assert wait_until(lambda: "1 waiting in the outbox" in client.status), client.status
    echo_server.start()
    assert client.wait_for(2, timeout=10) == ["Server: one", "Server: two"]
    assert client.state == "open" and client.pending == []
    assert client.reliable is False  # the article's server does not acknowledge


def test_the_reconnecting_status_in_indonesian(refused_url, chat):
    client = chat(refused_url, lang="id", reconnect=fast())
    client.wait_state("reconnecting")
    assert "tidak ada yang mendengarkan" in client.status
    assert re.search(r"Menyambung ulang dalam \d+,\d detik \(percobaan \d+\)$", client.status), client.status


def test_attempts_count_up_while_nothing_listens_and_each_wait_stays_within_the_schedule(refused_url, chat):
    backoff = fast()
    client = chat(refused_url, lang="en", reconnect=backoff)
    assert wait_until(lambda: backoff.attempt >= 4, timeout=10), client.status
    delays = [float(d) for d in re.findall(r"Reconnecting in (\d+\.\d) s", client.status)]
    assert delays and 0 <= delays[0] <= 0.4
    assert client.state == "reconnecting"


def test_close_while_reconnecting_stops_trying(refused_url, chat):
    backoff = fast()
    client = chat(refused_url, lang="en", reconnect=backoff)
    client.wait_state("reconnecting")
    started = time.monotonic()
    client.close()
    assert time.monotonic() - started < 3
    assert client.state == "closed"
    attempts = backoff.attempt
    time.sleep(0.5)
    assert backoff.attempt == attempts
    with pytest.raises(NotConnectedError):
        client.send("too late")


def test_close_while_connected_closes_with_1000_and_does_not_reconnect(echo_server, chat):
    client = connected(chat(echo_server.url, lang="en", reconnect=fast()))
    client.close()
    assert client.state == "closed" and client.close_code == 1000
    assert client.status == "Connection closed: code 1000"
    assert wait_until(lambda: len(echo_server.connections) == 0)
    time.sleep(0.3)  # longer than the first wait of the schedule: no new connection came
    assert client.state == "closed" and len(echo_server.connections) == 0


def test_a_reconnecting_client_does_not_retry_what_cannot_get_better(start_server, chat):
    def forbid(connection, request):
        return connection.respond(403, "no")

    server = start_server(echo, process_request=forbid)
    client = chat(server.url, lang="en", reconnect=fast())
    assert client.wait_state("error", "reconnecting") == "error"
    assert "HTTP 403" in client.status
    bad = chat("http://example", lang="en", reconnect=fast())
    assert bad.wait_state("error", "reconnecting") == "error"


def test_a_reconnecting_client_retries_a_server_that_is_temporarily_unavailable(start_server, chat):
    def unavailable(connection, request):
        return connection.respond(503, "busy")

    server = start_server(echo, process_request=unavailable)
    client = chat(server.url, lang="en", reconnect=fast())
    assert client.wait_state("error", "reconnecting") == "reconnecting"
    assert "HTTP 503" in client.status


def test_a_reconnecting_client_really_sleeps_between_attempts(start_server, chat):
    arrivals = []  # when each connection attempt reached the server

    def unavailable(connection, request):
        arrivals.append(time.monotonic())
        return connection.respond(503, "busy")  # retryable: the client waits, then tries again

    server = start_server(echo, process_request=unavailable)
    backoff = Backoff(first_delay=0.1, factor=2, max_delay=0.4)
    client = chat(server.url, lang="en", reconnect=backoff)
    assert wait_until(lambda: len(arrivals) >= 5, timeout=10), client.status
    client.close()
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    # Only the lower bound: a sleep never ends early, but a busy machine may make any gap longer.
    for attempt, gap in enumerate(gaps[:4], start=1):
        assert gap >= backoff.bounds(attempt)[0], (attempt, gaps)


async def stops_answering(websocket):
    await websocket.send("hello, then silence")
    websocket.transport.pause_reading()  # a frozen peer: it reads nothing, so it never answers a ping
    await websocket.wait_closed()


def test_keepalive_finds_a_server_that_stopped_answering_and_reconnects(start_server, chat):
    server = start_server(stops_answering, ping_interval=None, close_timeout=0.2)
    client = chat(server.url, lang="en", reconnect=fast(), ping_interval=0.2, ping_timeout=0.2)
    assert client.wait_for(1) == ["hello, then silence"]
    # It notices after about ping_interval + ping_timeout, then connects again and is greeted again.
    assert client.wait_for(2, timeout=10) == ["hello, then silence"] * 2
    assert client.close_code == 1011 and client.close_reason == "keepalive ping timeout"


def test_keepalive_finds_a_server_that_stopped_answering_without_reconnect_too(start_server, chat):
    server = start_server(stops_answering, ping_interval=None, close_timeout=0.2)
    client = chat(server.url, lang="en", ping_interval=0.2, ping_timeout=0.2)
    assert client.wait_for(1) == ["hello, then silence"]
    assert client.wait_closed(timeout=10) == 1011
    assert client.close_reason == "keepalive ping timeout"


def test_send_button_while_reconnecting_puts_the_message_in_the_outbox_and_clears_the_box(refused_url, chat):
    client = chat(refused_url, lang="en", reconnect=fast())
    client.wait_state("reconnecting")
    client.input.value = "later"
    client.send_button.click()
    assert client.input.value == ""
    assert client.pending == ["later"]


def test_a_reconnecting_client_sends_text_only(echo_server, chat):
    client = chat(echo_server.url, lang="en", reconnect=fast())
    with pytest.raises(TypeError, match="sends text"):
        client.send(b"\x00")


def test_with_an_acknowledging_server_the_client_speaks_the_protocol(start_server, chat):
    handler = AckingEcho()
    server = start_server(handler, subprotocols=[PROTOCOL])
    client = connected(chat(server.url, lang="en", reconnect=fast()))
    assert client.reliable is True
    client.send("hi")
    assert client.wait_for(1) == ["Server: hi"]
    assert "Message: Server: hi" in client.messages_view.value
    assert handler.processed == [(client.client_id, 1, "hi")]


async def acknowledges_twice(websocket):
    async for raw in websocket:
        message = json.loads(raw)
        for _ in range(2):
            await websocket.send(json.dumps({"ack": message["id"], "text": f"Server: {message['text']}"}))


def test_an_acknowledgement_that_arrives_twice_is_shown_once(start_server, chat):
    server = start_server(acknowledges_twice, subprotocols=[PROTOCOL])
    client = connected(chat(server.url, lang="en", reconnect=fast()))
    client.send("once")
    client.send("twice?")
    assert client.wait_for(2) == ["Server: once", "Server: twice?"]
    assert wait_until(lambda: client.duplicates_dropped == 2)
    assert client.messages == ["Server: once", "Server: twice?"]


async def sends_what_is_no_reply_of_ours_then_acknowledges(websocket):
    await websocket.send('{"type": "join", "user": "ana"}')  # a JSON object with neither ack nor text
    await websocket.send('{"ack": "7", "text": "an ack that is no number"}')
    await websocket.send('{"ack": 99, "text": "an ack of an id never sent"}')
    await websocket.send("[1, 2]")
    async for raw in websocket:
        message = json.loads(raw)
        await websocket.send(json.dumps({"ack": message["id"], "text": f"Server: {message['text']}"}))


def test_what_is_no_acknowledgement_of_ours_is_shown_as_it_came_not_dropped(start_server, chat):
    server = start_server(sends_what_is_no_reply_of_ours_then_acknowledges, subprotocols=[PROTOCOL])
    client = connected(chat(server.url, lang="en", reconnect=fast()))
    assert client.wait_for(4) == [
        '{"type": "join", "user": "ana"}',
        '{"ack": "7", "text": "an ack that is no number"}',
        '{"ack": 99, "text": "an ack of an id never sent"}',
        "[1, 2]",
    ]
    client.send("hi")  # the bogus acks above did not acknowledge it: its reply still comes
    assert client.wait_for(5)[4] == "Server: hi"
    assert client.duplicates_dropped == 0 and client.pending == []


def test_a_broadcast_that_is_no_envelope_reaches_a_reconnecting_client(start_server, chat):
    server = start_server(AckingEcho(), subprotocols=[PROTOCOL])
    client = connected(chat(server.url, lang="en", reconnect=fast()))
    server.broadcast('{"type": "join"}')
    assert client.wait_for(1) == ['{"type": "join"}']


# wss:// (lesson 07): ChatClient(url, ssl=context) with a local authority made by trustme.


@pytest.mark.parametrize("reconnect", [False, True], ids=["once", "reconnecting"])
def test_a_client_given_the_local_authority_talks_over_wss(
    start_server, server_context, trusting, chat, reconnect
):
    server = start_server(echo, ssl=server_context)
    client = connected(chat(server.url, lang="en", ssl=trusting, reconnect=fast() if reconnect else False))
    assert client.status == f"Connected to WebSocket server {server.url}"
    assert client.status.startswith("Connected to WebSocket server wss://")
    client.send("hello")
    assert client.wait_for(1) == ["Server: hello"]


UNTRUSTED = {  # what the status line starts with, and what pressing Send then adds
    "en": ("Error: The client refused the server's certificate: no authority it trusts signed it",
           "was not sent"),
    "id": ("Kesalahan: Klien menolak sertifikat server: tidak ada otoritas yang dipercayainya",
           "belum terkirim"),
}


@pytest.mark.parametrize("lang", ["en", "id"])
def test_an_untrusted_certificate_is_explained_and_the_client_ends_cleanly(
    start_server, server_context, trusting, chat, lang
):
    server = start_server(echo, ssl=server_context)
    client = chat(server.url, lang=lang)  # no ssl=: only the system's authorities, not ours
    assert client.wait_state("error", "open") == "error"
    explained, not_sent = UNTRUSTED[lang]
    assert client.status.startswith(explained), client.status
    assert "CERTIFICATE_VERIFY_FAILED" in client.status and "ca.configure_trust(context)" in client.status
    with pytest.raises(NotConnectedError):
        client.send("hello")
    client.input.value = "keep me"
    client.send_button.click()
    assert client.input.value == "keep me" and not_sent in client.status.lower()
    started = time.monotonic()
    client.close()  # nothing is open: it returns at once, and the explanation stays on the status line
    assert time.monotonic() - started < 1
    assert client.state == "error" and explained.split(": ", 1)[1] in client.status
    # The server was not hurt: a client that trusts the authority gets its answer.
    trusted = connected(chat(server.url, lang=lang, ssl=trusting))
    trusted.send("hello")
    assert trusted.wait_for(1) == ["Server: hello"]


def test_a_reconnecting_client_does_not_retry_an_untrusted_certificate(start_server, server_context, chat):
    server = start_server(echo, ssl=server_context)
    client = chat(server.url, lang="en", reconnect=fast())
    # The certificate and the context stay the same: every attempt would fail the same way.
    assert client.wait_state("error", "reconnecting") == "error"
    assert "no authority it trusts signed it" in client.status
    client.close()
    assert client.state == "error" and "no authority it trusts signed it" in client.status


def test_a_reconnecting_client_over_wss_comes_back_with_the_same_context(
    start_server, server_context, trusting, chat
):
    server = start_server(echo, ssl=server_context)
    client = connected(chat(server.url, lang="en", ssl=trusting, reconnect=fast()))
    client.send("one")
    assert client.wait_for(1) == ["Server: one"]
    server.stop()
    client.wait_state("reconnecting")
    client.send("two")
    server.start()  # same port, same certificate: only a client that still trusts our authority gets in
    assert client.wait_for(2, timeout=10) == ["Server: one", "Server: two"]
    assert client.state == "open" and client.pending == []


def test_wss_to_a_plain_server_and_ws_to_a_tls_server_are_explained(
    start_server, server_context, trusting, chat
):
    plain = start_server(echo)
    client = chat(plain.url.replace("ws://", "wss://"), lang="en", ssl=trusting)
    assert client.wait_state("error", "open") == "error"
    assert "does not speak TLS" in client.status and "ws://" in client.status
    encrypted = start_server(echo, ssl=server_context)
    client = chat(encrypted.url.replace("wss://", "ws://"), lang="id")
    assert client.wait_state("error", "open") == "error"
    assert "server kemungkinan mengharapkan TLS" in client.status


def test_ssl_with_a_ws_url_says_it_is_for_wss(echo_server, trusting, chat):
    client = chat(echo_server.url, lang="en", ssl=trusting)
    assert client.wait_state("error", "open") == "error"
    assert f"ssl=... is for wss:// URLs, and {echo_server.url} is a ws:// URL" in client.status


@pytest.mark.parametrize("reconnect", [False, True], ids=["once", "reconnecting"])
def test_origin_is_sent_so_a_server_with_an_allow_list_lets_the_client_in(start_server, chat, reconnect):
    server = start_server(echo, origins=["https://chat.example"])
    refused = chat(server.url, lang="en", reconnect=fast() if reconnect else False)
    assert refused.wait_state("error", "open") == "error"
    assert "HTTP 403" in refused.status
    client = connected(chat(server.url, lang="en", origin="https://chat.example",
                            reconnect=fast() if reconnect else False))
    client.send("hello")
    assert client.wait_for(1) == ["Server: hello"]
