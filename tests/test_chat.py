"""ChatClient against real servers, without a Jupyter kernel (the widgets get a dummy comm)."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from helpers import wait_until
from wstutorial import NotConnectedError

pytestmark = pytest.mark.usefixtures("english")

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def connected(client):
    assert wait_until(lambda: client.state != "connecting"), client.status
    assert client.state == "open", client.status
    return client


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
