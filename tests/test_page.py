"""The article's page over plain HTTP on the WebSocket server's own port, and lesson 04's self-check.

Real servers and real HTTP requests (urllib); the browser side is in test_page_browser.py.
"""

from __future__ import annotations

import json
import re
import runpy
import socket
import types
import urllib.error
import urllib.request

import pytest
from websockets.sync.client import connect

import wstutorial
from tools.notebooks import NOTEBOOKS
from wstutorial import echo
from wstutorial.i18n import MESSAGES
from wstutorial.page import check_health_check, chat_page, jupyter_base_url, page_html, page_url, proxied_url

pytestmark = pytest.mark.usefixtures("english")


def get(url):
    """(status, content type, body) of a real GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


@pytest.fixture
def page_server(start_server):
    def start(lang=None, handler=echo):
        return start_server(handler, process_request=chat_page(lang))

    return start


def script_texts(body):
    """The texts the page's script fills in, as it reads them."""
    return json.loads(re.search(r"const TEXT = (\{.*?\});\n", body).group(1).replace("<\\/", "</"))


def test_a_plain_get_of_slash_is_answered_with_the_articles_page(page_server):
    server = page_server("en")
    status, kind, body = get(page_url(server))
    assert status == 200 and kind == "text/html; charset=utf-8"
    assert '<html lang="en">' in body and "<h1>WebSocket Client</h1>" in body
    assert '<input id="messageInput" type="text" placeholder="Type your message...">' in body
    assert '<button id="sendButton">Send</button>' in body
    assert '<div id="messages"></div>' in body
    assert script_texts(body)["message"] == "Message: {text}"


def test_the_indonesian_page_uses_the_articles_own_indonesian(page_server):
    server = page_server("id")
    _, _, body = get(page_url(server))
    assert '<html lang="id">' in body
    assert 'placeholder="Ketik pesan..."' in body and ">Kirim</button>" in body
    assert script_texts(body)["message"] == "Pesan: {text}"
    assert script_texts(body)["connected"] == "Terhubung ke server WebSocket {url}"


def test_the_page_speaks_the_language_chosen_when_it_was_made(page_server):
    wstutorial.set_language("id")
    server = page_server()
    wstutorial.set_language("en")
    assert ">Kirim</button>" in get(page_url(server))[2]


def test_the_page_builds_its_websocket_url_from_its_own_address(page_server):
    _, _, body = get(page_url(page_server("en")))
    expression = (
        '(location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + location.pathname'
    )
    assert f"const url = {expression};" in body
    assert "localhost:8080" not in body


def test_the_page_shows_messages_as_text_never_as_html(page_server):
    _, _, body = get(page_url(page_server("en")))
    assert "message.textContent = fill(TEXT.message, {text});" in body
    assert "innerHTML" not in body


def test_a_path_ending_in_a_slash_gets_the_page_whatever_its_prefix_or_query(page_server):
    # jupyter-server-proxy's /proxy/absolute/PORT/ keeps its prefix; a token may ride along.
    server = page_server("en")
    for path in ("proxy/absolute/1234/", "?token=abc", "user/learner/proxy/1234/?token=abc"):
        status, kind, body = get(page_url(server) + path)
        assert (status, kind) == (200, "text/html; charset=utf-8"), path
        assert 'id="sendButton"' in body


def test_any_other_path_gets_404_in_the_learners_language(page_server):
    status, kind, body = get(page_url(page_server("id")) + "favicon.ico")
    assert status == 404 and kind.startswith("text/plain")
    assert body.startswith("Tidak ditemukan: /favicon.ico.")


def test_websocket_handshakes_still_reach_the_handler_on_the_same_port(page_server):
    server = page_server("en")
    assert get(page_url(server))[0] == 200
    with connect(server.url) as websocket:
        websocket.send("hello")
        assert websocket.recv(timeout=5) == "Server: hello"
    assert get(page_url(server))[0] == 200  # and pages after it


def test_an_upgrade_header_in_any_case_is_a_websocket_handshake_not_a_page_request(page_server):
    # RFC 6455 (4.2.1): the Upgrade value "websocket" is compared case-insensitively.
    server = page_server("en")
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(
            f"GET / HTTP/1.1\r\nHost: {server.host}:{server.port}\r\nUpgrade: WebSocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        status_line = sock.makefile("rb").readline()
    assert status_line == b"HTTP/1.1 101 Switching Protocols\r\n"


def test_page_texts_cannot_break_out_of_the_html_or_the_script(monkeypatch):
    monkeypatch.setitem(MESSAGES["send"], "en", '<b>"Send"</b>')
    monkeypatch.setitem(MESSAGES["message"], "en", "</script><script>alert(1)</script>{text}")
    body = page_html("en")
    assert "&lt;b&gt;&quot;Send&quot;&lt;/b&gt;" in body
    assert body.count("</script>") == 1  # only the page's own
    assert script_texts(body)["message"] == "</script><script>alert(1)</script>{text}"


def test_an_unknown_language_is_refused_in_both_languages():
    with pytest.raises(ValueError, match="lang must be 'en' or 'id'.*lang harus"):
        chat_page("fr")


def test_page_url_is_the_servers_address_over_http():
    assert page_url(types.SimpleNamespace(url="ws://127.0.0.1:8765")) == "http://127.0.0.1:8765/"
    assert page_url(types.SimpleNamespace(url="wss://[::1]:8765")) == "https://[::1]:8765/"


def server_at(port, url=None):
    return types.SimpleNamespace(port=port, url=url or f"ws://127.0.0.1:{port}")


def test_proxied_url_is_a_path_under_the_jupyter_base_url():
    assert proxied_url(server_at(8765), base_url="/") == "/proxy/8765/"
    assert proxied_url(server_at(8765), base_url="/user/alice/") == "/user/alice/proxy/8765/"
    assert proxied_url(server_at(8765), base_url="user/alice") == "/user/alice/proxy/8765/"


def test_proxied_url_refuses_a_tls_server_the_proxy_cannot_reach():
    with pytest.raises(ValueError, match="plain HTTP"):
        proxied_url(server_at(8765, "wss://127.0.0.1:8765"), base_url="/")


@pytest.fixture
def no_jupyter(monkeypatch):
    """No running Jupyter server and no hub, as under nbval or in a plain script."""
    monkeypatch.setattr("wstutorial.page._running_jupyter_servers", lambda: [])
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    return monkeypatch


def test_without_jupyter_or_a_hub_the_base_url_is_the_default_slash(no_jupyter):
    assert jupyter_base_url() == "/"


def test_on_a_hub_or_binder_the_base_url_is_the_service_prefix(no_jupyter):
    no_jupyter.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice")
    assert jupyter_base_url() == "/user/alice/"


def test_the_jupyter_server_that_started_the_kernel_has_the_last_word(no_jupyter):
    no_jupyter.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    servers = [{"pid": 1, "base_url": "/other/"}, {"pid": 4242, "base_url": "/lab-here/"}]
    no_jupyter.setattr("wstutorial.page._running_jupyter_servers", lambda: servers)
    no_jupyter.setattr("os.getppid", lambda: 4242)
    assert jupyter_base_url() == "/lab-here/"
    no_jupyter.setattr("os.getppid", lambda: 999)  # some other server's: not ours
    assert jupyter_base_url() == "/user/alice/"


# Lesson 04's exercise: a health check beside the page.


def load_solution():
    return runpy.run_path(str(NOTEBOOKS / "solutions" / "04-health-check.py"))["with_health_check"]


def test_health_check_solution_passes_its_check(capsys):
    check_health_check(load_solution())
    assert "✓" in capsys.readouterr().out


def test_health_check_says_not_tried_while_the_placeholder_is_there(capsys):
    check_health_check(None)
    assert "Not tried yet" in capsys.readouterr().out


def test_health_check_fails_the_page_alone():
    with pytest.raises(AssertionError, match="GET /health answered HTTP 404"):
        check_health_check(chat_page("en"))


def health_only(connection, request):
    if request.path == "/health":
        return connection.respond(200, "OK\n")
    return None


def test_health_check_fails_when_the_page_is_lost():
    with pytest.raises(AssertionError, match=r"GET / answered HTTP 426 .*return page\(connection, request\)"):
        check_health_check(health_only)


def answers_upgrades_too(connection, request):
    if request.path == "/health":
        return connection.respond(200, "OK\n")
    # The page returns None for a handshake; this turns that into a 404 as well.
    return chat_page("en")(connection, request) or connection.respond(404, "Not found\n")


def test_health_check_fails_when_websocket_handshakes_are_answered_too():
    with pytest.raises(AssertionError, match="could not connect \\(HTTP 404\\).*return None"):
        check_health_check(answers_upgrades_too)


async def async_solution(connection, request):
    if request.path == "/health":
        return connection.respond(200, "OK\n")
    return chat_page("en")(connection, request)


def test_health_check_accepts_an_async_function_too(capsys):
    check_health_check(async_solution)
    assert "✓" in capsys.readouterr().out


def wrong_body(connection, request):
    return connection.respond(200, "fine\n") if request.path == "/health" else None


def test_health_check_wants_ok_in_the_body():
    with pytest.raises(AssertionError, match="with 'fine\\\\n'; expected 200 and 'OK'"):
        check_health_check(wrong_body)


def raises(connection, request):
    raise KeyError("path")


def test_health_check_names_the_error_the_function_raised():
    with pytest.raises(AssertionError, match="HTTP 500.*raised KeyError: 'path'"):
        check_health_check(raises)


def test_health_check_of_something_not_callable_asks_for_a_function():
    with pytest.raises(TypeError, match="is not a function"):
        check_health_check("with_health_check")
