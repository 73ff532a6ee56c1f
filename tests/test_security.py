"""Lesson 07: each defence against a real server, and the server still serving others after each attack."""

from __future__ import annotations

import contextlib
import hmac
import runpy
import ssl
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus
from websockets.frames import CloseCode
from websockets.sync.client import connect

from tests.helpers import wait_until
from tools.notebooks import NOTEBOOKS
from wstutorial import echo, log
from wstutorial.guards import TokenBucket
from wstutorial.nodeserver import ArticleNodeServer, node_missing
from wstutorial.rawframes import send_raw_frame
from wstutorial.security_checks import audit, check_one_per_user
from wstutorial.tls import explain_tls_error

pytestmark = pytest.mark.usefixtures("english")

UNMASKED_TEXT_FRAME = bytes([0x81, 0x02]) + b"hi"
TOKEN = "let-me-in-7f3a"
RATE = 5
MAX_CONNECTIONS = 3
USERS = {"alice-token-5d2e": "alice", "bob-token-91c4": "bob"}


def answer(url: str, text: str = "hello", **options) -> str:
    """What the server at `url` replies to `text` (a fresh connection each time)."""
    with connect(url, open_timeout=5, **options) as websocket:
        websocket.send(text)
        return websocket.recv(timeout=5)


def refusal(url: str, **options) -> int:
    """The HTTP status of a refused handshake; fails the test if the connection opens."""
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=5, **options).close()
    return refused.value.response.status_code


def close_code_after(websocket, *messages: str) -> tuple[int, str]:
    with contextlib.suppress(ConnectionClosed):  # the server may close before the last one is sent
        for message in messages:
            websocket.send(message)
    with pytest.raises(ConnectionClosed):
        while True:
            websocket.recv(timeout=12)  # websockets' close_timeout (10 s) bounds a stalled close
    return websocket.close_code, websocket.close_reason


# The lesson's server code, as its cells write it.


def check_token(connection, request):
    token = parse_qs(urlsplit(request.path).query).get("token", [""])[0]
    if not hmac.compare_digest(token.encode(), TOKEN.encode()):
        return connection.respond(HTTPStatus.UNAUTHORIZED, "Missing or wrong token.\n")
    return None


def cap_connections(connection, request):
    if len(connection.server.connections) >= MAX_CONNECTIONS:
        response = connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "Too many connections, try again later.\n")
        response.headers["Retry-After"] = "10"
        return response
    return None


async def rate_limited(websocket):
    bucket = TokenBucket(rate=RATE, burst=RATE)
    async for message in websocket:
        if not bucket.take():
            await websocket.close(CloseCode.POLICY_VIOLATION, f"rate limit: {RATE} messages per second")
            break
        await websocket.send(f"Server: {message}")


async def who_is_calling(websocket):
    log(f"Connection from {websocket.request.headers.get('Origin')}")
    async for message in websocket:
        await websocket.send(f"Server: {message}")



# TLS


def test_a_client_that_trusts_the_local_ca_talks_over_wss(start_server, server_context, trusting):
    server = start_server(echo, ssl=server_context)
    assert server.url.startswith("wss://127.0.0.1:")
    assert answer(server.url, "hello over TLS", ssl=trusting) == "Server: hello over TLS"


def test_a_client_that_does_not_trust_the_ca_refuses_and_the_server_keeps_serving(
    start_server, server_context, trusting
):
    server = start_server(echo, ssl=server_context)
    with pytest.raises(ssl.SSLCertVerificationError) as refused:
        connect(server.url, open_timeout=5)  # only the system's authorities
    assert refused.value.reason == "CERTIFICATE_VERIFY_FAILED"
    explained = explain_tls_error(refused.value)
    assert "no authority it trusts signed it" in explained and "ca.configure_trust(context)" in explained
    assert "Otoritas" in explain_tls_error(refused.value, "id").title()
    assert answer(server.url, ssl=trusting) == "Server: hello"


def test_a_certificate_for_another_name_is_explained_as_such(start_server, ca, trusting):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("chat.example").configure_cert(context)
    server = start_server(echo, ssl=context)
    for url in (server.url, server.url.replace("127.0.0.1", "localhost")):
        with pytest.raises(ssl.SSLCertVerificationError) as refused:
            connect(url, ssl=trusting, open_timeout=5)
        assert "for another name than the one in the URL" in explain_tls_error(refused.value)


def test_mixing_up_ws_and_wss_is_explained(start_server, server_context, trusting):
    plain = start_server(echo)
    with pytest.raises(OSError) as failed:
        connect(plain.url.replace("ws://", "wss://"), ssl=trusting, open_timeout=5)
    assert "does not speak TLS" in explain_tls_error(failed.value)
    encrypted = start_server(echo, ssl=server_context)
    with pytest.raises(InvalidMessage) as failed:
        connect(encrypted.url.replace("wss://", "ws://"), open_timeout=5)
    assert "expects TLS" in explain_tls_error(failed.value)


# Origin


def test_by_default_a_page_from_a_foreign_origin_gets_in(start_server):
    server = start_server(who_is_calling)
    assert answer(server.url, origin="http://evil.example") == "Server: hello"
    assert server.log == ["Connection from http://evil.example"]


def test_an_origin_allow_list_refuses_others_with_403_before_the_handler(start_server):
    server = start_server(who_is_calling, origins=["https://chat.example"])
    assert refusal(server.url, origin="http://evil.example") == 403
    assert refusal(server.url) == 403  # no Origin at all: not a browser, not on the list
    assert answer(server.url, origin="https://chat.example") == "Server: hello"
    assert server.log == ["Connection from https://chat.example"]


# Token


def test_a_missing_or_wrong_token_gets_401_and_never_reaches_the_handler(start_server):
    server = start_server(echo, process_request=check_token)
    assert refusal(server.url) == 401
    assert refusal(f"{server.url}/?token=guess") == 401
    assert refusal(f"{server.url}/?token={TOKEN}x") == 401
    assert answer(f"{server.url}/?token={TOKEN}") == "Server: hello"
    assert server.log == ["Client connected", "Received: hello"]


# Limits


def test_a_message_over_max_size_closes_1009_and_others_are_still_served(start_server):
    server = start_server(echo, max_size=1024)
    with connect(server.url) as greedy, connect(server.url) as polite:
        code, _ = close_code_after(greedy, "x" * 2000)
        assert code == 1009
        polite.send("still there?")
        assert polite.recv(timeout=5) == "Server: still there?"


def test_a_flood_closes_1008_with_the_policy_and_others_are_still_served(start_server):
    server = start_server(rate_limited)
    with connect(server.url) as flooder, connect(server.url) as calm:
        assert close_code_after(flooder, *[f"message {n}" for n in range(15)]) == (
            1008,
            "rate limit: 5 messages per second",
        )
        calm.send("hello")
        assert calm.recv(timeout=5) == "Server: hello"


def test_a_client_within_the_rate_is_never_closed(start_server):
    server = start_server(rate_limited)
    with connect(server.url) as steady:
        for n in range(RATE):
            steady.send(f"message {n}")
            assert steady.recv(timeout=5) == f"Server: message {n}"


def test_one_connection_too_many_gets_503_with_retry_after_and_room_comes_back(start_server):
    server = start_server(echo, process_request=cap_connections)
    with contextlib.ExitStack() as stack:
        first = [stack.enter_context(connect(server.url, open_timeout=5)) for _ in range(MAX_CONNECTIONS)]
        with pytest.raises(InvalidStatus) as refused:
            connect(server.url, open_timeout=5)
        assert refused.value.response.status_code == 503
        assert refused.value.response.headers["Retry-After"] == "10"
        first[1].send("still served?")
        assert first[1].recv(timeout=5) == "Server: still served?"
        first[0].close()
        assert answer(server.url, "room now?") == "Server: room now?"


def test_compression_is_on_by_default_and_off_with_compression_none(start_server):
    for options, expected in (({}, "permessage-deflate"), ({"compression": None}, None)):
        server = start_server(echo, **options)
        with connect(server.url) as websocket:
            offered = websocket.response.headers.get("Sec-WebSocket-Extensions")
        assert (offered.split(";")[0] if offered else None) == expected


def test_token_bucket_allows_a_burst_then_the_rate():
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.5  # one token back at 2 per second
    assert [bucket.take(), bucket.take()] == [True, False]
    now[0] += 60  # a long pause refills to the burst, no further
    assert bucket.tokens == 3


@pytest.mark.parametrize("rate, burst", [(0, 1), (-1, None), (5, 0), ("5", None), (True, None)])
def test_token_bucket_refuses_a_meaningless_policy_and_says_what_it_wants(rate, burst):
    with pytest.raises(ValueError, match="must be positive numbers"):
        TokenBucket(rate=rate, burst=burst)


# A malformed frame


def test_our_server_closes_a_malformed_frame_1002_and_keeps_serving(start_server):
    server = start_server(echo)
    with connect(server.url) as bystander:
        reply = send_raw_frame(server.url, UNMASKED_TEXT_FRAME)
        assert (reply.close_code, reply.close_reason) == (1002, "incorrect masking")
        assert str(reply) == "The server closed the connection: code 1002 (incorrect masking)"
        bystander.send("still serving?")
        assert bystander.recv(timeout=5) == "Server: still serving?"
    assert server.running


def test_a_well_formed_frame_sent_raw_is_answered_normally(start_server):
    # The raw client itself is right: a masked frame gets the echo, not a close.
    server = start_server(echo)
    masked = bytes([0x81, 0x82]) + b"\x01\x02\x03\x04" + bytes(a ^ b for a, b in zip(b"hi", b"\x01\x02"))
    reply = send_raw_frame(server.url, masked, timeout=0.5)
    assert reply.accepted and reply.close_code is None and reply.timed_out


def test_a_raw_frame_to_a_server_that_refuses_the_handshake_reports_the_refusal(start_server):
    server = start_server(echo, process_request=check_token)
    reply = send_raw_frame(server.url, UNMASKED_TEXT_FRAME)
    assert not reply.accepted and "401" in str(reply)
    with pytest.raises(ValueError, match="not a ws:// or wss:// URL"):
        send_raw_frame("http://127.0.0.1:1", UNMASKED_TEXT_FRAME)


@pytest.mark.skipif(node_missing() is not None, reason=node_missing() or "")
def test_the_articles_node_server_dies_on_one_malformed_frame_taking_everyone_with_it():
    with ArticleNodeServer() as article:
        with connect(article.url) as bystander:
            assert send_raw_frame(article.url, UNMASKED_TEXT_FRAME).close_code == 1002
            assert wait_until(lambda: not article.running, timeout=10)
            with pytest.raises(ConnectionClosed):
                bystander.recv(timeout=5)
        assert article.returncode == 1
        assert any("Unhandled 'error' event" in line for line in article.output)
        assert any("Invalid WebSocket frame: MASK must be set" in line for line in article.output)


# The closing audit


def guard(connection, request):
    return cap_connections(connection, request) or check_token(connection, request)


def audit_options(trusting):
    return dict(trust=trusting, token=TOKEN, origin="https://chat.example", max_size=4096, rate=RATE,
                max_connections=MAX_CONNECTIONS)


def test_the_audit_passes_a_server_with_every_defence(start_server, server_context, trusting, capsys):
    server = start_server(rate_limited, ssl=server_context, origins=["https://chat.example"],
                          process_request=guard, max_size=4096, compression=None)
    checks = audit(server, **audit_options(trusting))
    assert len(checks) == 10 and all(check.passed for check in checks)
    assert capsys.readouterr().out.count("✓") == 10


def test_the_audit_names_each_missing_defence(start_server, server_context, trusting, capsys):
    # TLS and the rate limit only: no Origin list, no token, default max_size, no cap.
    server = start_server(rate_limited, ssl=server_context)
    with pytest.raises(AssertionError, match="5 check"):
        audit(server, **audit_options(trusting))
    failed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("✗")]
    assert [line.split(":")[0] for line in failed] == ["✗ Origin", "✗ Token", "✗ Token", "✗ Size", "✗ Connections"]


# The exercise


def solution():
    return runpy.run_path(str(NOTEBOOKS / "solutions" / "07-one-per-user.py"), {"USERS": USERS})["one_per_user"]


def test_the_exercise_solution_passes_its_check(capsys):
    check_one_per_user(solution(), USERS)
    assert "✓" in capsys.readouterr().out


def test_the_exercise_check_says_not_tried_while_the_placeholder_is_there(capsys):
    check_one_per_user(None, USERS)
    assert "Not tried yet" in capsys.readouterr().out


def test_the_exercise_check_fails_a_guard_that_lets_everyone_in():
    with pytest.raises(AssertionError, match="No token: expected HTTP 401, got a connection"):
        check_one_per_user(lambda connection, request: None, USERS)


def test_the_exercise_check_fails_a_guard_that_allows_two_connections_per_user():
    def tokens_only(connection, request):
        token = parse_qs(urlsplit(request.path).query).get("token", [""])[0]
        if token not in USERS:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "no\n")
        return None

    with pytest.raises(AssertionError, match="alice's second connection .* expected HTTP 409"):
        check_one_per_user(tokens_only, USERS)


def test_the_exercise_check_fails_a_guard_that_never_lets_a_user_back_in():
    def forgets_nothing(connection, request, seen=set()):
        token = parse_qs(urlsplit(request.path).query).get("token", [""])[0]
        if token not in USERS:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "no\n")
        if token in seen:
            return connection.respond(HTTPStatus.CONFLICT, "again\n")
        seen.add(token)
        return None

    with pytest.raises(AssertionError, match="alice again after closing"):
        check_one_per_user(forgets_nothing, USERS)


def test_the_exercise_check_names_the_error_the_guard_raised():
    with pytest.raises(AssertionError, match="raised KeyError: 'token'.*HTTP 500"):
        check_one_per_user(lambda connection, request: {}["token"], USERS)


def test_the_exercise_check_accepts_an_async_guard(capsys):
    sync_solution = solution()

    async def one_per_user(connection, request):
        return sync_solution(connection, request)

    check_one_per_user(one_per_user, USERS)
    assert "✓" in capsys.readouterr().out
