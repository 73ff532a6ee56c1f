"""Nothing sent is lost or doubled: the outbox, ids and acks, and 1,000 messages across server restarts."""

from __future__ import annotations

import asyncio
import json
import random

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

from wstutorial import NotConnectedError, loop
from wstutorial.backoff import Backoff
from wstutorial.reliable import PROTOCOL, AckingEcho, Outbox, OutboxFullError, with_client_id

pytestmark = pytest.mark.usefixtures("english")

FAST = dict(first_delay=0.05, factor=2, max_delay=0.5)  # reconnect quickly: the tests restart often


# The outbox.


def test_messages_get_ids_1_2_3_and_are_sent_in_order():
    outbox = Outbox()
    for text in ("a", "b", "c"):
        outbox.add(text)
    sent = [outbox.next_unsent() for _ in range(4)]
    assert [(e.id, e.text) for e in sent[:3]] == [(1, "a"), (2, "b"), (3, "c")]
    assert sent[3] is None


def test_after_a_reconnection_everything_unacknowledged_is_sent_again_in_order():
    outbox = Outbox()
    for text in "abcd":
        outbox.add(text)
    while outbox.next_unsent():
        pass
    assert outbox.ack(2)
    outbox.rewind()
    outbox.add("e")
    assert [outbox.next_unsent().text for _ in range(3)] == ["c", "d", "e"]
    assert outbox.resent == 2


def test_an_ack_covers_every_earlier_id_and_a_repeated_ack_is_a_duplicate():
    outbox = Outbox()
    for text in "abc":
        outbox.add(text)
        outbox.next_unsent()
    assert outbox.ack(2) is True
    assert [e.text for e in outbox.pending] == ["c"]
    assert outbox.ack(2) is False
    assert outbox.ack(1) is False
    assert outbox.ack(99) is False  # never sent: not an acknowledgement of anything
    assert outbox.ack(3) is True and len(outbox) == 0


def test_a_full_outbox_refuses_more_and_says_why():
    outbox = Outbox(limit=2)
    outbox.add("a")
    outbox.add("b")
    with pytest.raises(OutboxFullError, match="2 messages are already waiting"):
        outbox.add("c")


def test_the_client_id_goes_into_the_query_of_the_url():
    assert with_client_id("ws://h:1", "abc") == "ws://h:1?client=abc"
    assert with_client_id("ws://h:1/chat?room=5", "abc") == "ws://h:1/chat?room=5&client=abc"


# The server: processes each id once, acknowledges every copy.


async def send_raw(url, envelopes):
    async with connect(url, subprotocols=[PROTOCOL]) as websocket:
        replies = []
        for envelope in envelopes:
            await websocket.send(json.dumps(envelope))
            replies.append(json.loads(await websocket.recv()))
        return replies


def test_the_server_processes_a_resent_message_once_and_acknowledges_it_again(start_server):
    handler = AckingEcho()
    server = start_server(handler, subprotocols=[PROTOCOL])
    url = with_client_id(server.url, "c1")
    first = loop.run(send_raw(url, [{"id": 1, "text": "hi"}, {"id": 2, "text": "there"}]), timeout=10)
    again = loop.run(send_raw(url, [{"id": 2, "text": "there"}, {"id": 3, "text": "new"}]), timeout=10)
    assert [r["ack"] for r in first + again] == [1, 2, 2, 3]
    assert again[0] == {"ack": 2, "text": "Server: there"}
    assert handler.processed == [("c1", 1, "hi"), ("c1", 2, "there"), ("c1", 3, "new")]


def test_the_server_keeps_one_number_per_client(start_server):
    handler = AckingEcho()
    server = start_server(handler, subprotocols=[PROTOCOL])
    for client in ("a", "b"):
        loop.run(send_raw(with_client_id(server.url, client), [{"id": 1, "text": "x"}]), timeout=10)
    assert handler.last_processed == {"a": 1, "b": 1}


def test_a_client_that_does_not_name_itself_is_told_how(start_server):
    handler = AckingEcho()
    server = start_server(handler, subprotocols=[PROTOCOL])
    with pytest.raises(ConnectionClosedError):
        loop.run(send_raw(server.url, [{"id": 1, "text": "x"}]), timeout=10)
    assert "?client=<id>" in server.log[-1] and "1011" in server.log[-1]


# Across restarts, with a ChatClient(reconnect=...).


class SlowAckingEcho(AckingEcho):
    """Takes a millisecond per message, like a server that writes to a database: a backlog builds
    up, so every restart catches messages in flight."""

    async def process(self, client, message_id, text):
        await asyncio.sleep(0.001)
        await super().process(client, message_id, text)


def crash(server):
    """The server process dies: connections drop without a close frame (1006), then it stops."""
    loop.run(_abort_all(server), timeout=5)
    server.stop()


async def _abort_all(server):
    for connection in server.connections:
        connection.transport.abort()


class RecordingBackoff(Backoff):
    """A Backoff that remembers every wait it chose: (attempt, delay)."""

    def __init__(self, **settings):
        super().__init__(**settings)
        self.waits = []

    def next_delay(self):
        delay = super().next_delay()
        self.waits.append((self.attempt, delay))
        return delay


SEED = 20261126
MESSAGES = 1000
RESTARTS = 3


def test_1000_messages_across_3_server_restarts_none_lost_none_doubled_order_kept(start_server, chat, capsys):
    rng = random.Random(SEED)
    handler = SlowAckingEcho()
    server = start_server(handler, subprotocols=[PROTOCOL], close_timeout=1)
    backoff = RecordingBackoff(**FAST, rng=random.Random(SEED + 1))  # its own: it draws from the loop thread
    client = chat(server.url, lang="en", reconnect=backoff)
    restart_after = sorted(rng.sample(range(1, MESSAGES - 1), RESTARTS))
    kinds = []
    for n in range(MESSAGES):
        client.send(f"message {n}")
        if n in restart_after:
            kind = rng.choice(["stop", "crash"])
            (server.stop if kind == "stop" else lambda: crash(server))()
            loop.run(asyncio.sleep(rng.uniform(0, 0.3)))  # down for a random while; sends go on after
            server.start()
            kinds.append(kind)
    received = client.wait_for(MESSAGES, timeout=60)

    processed = [text for _client, _id, text in handler.processed]
    sent = [f"message {n}" for n in range(MESSAGES)]
    figures = dict(seed=SEED, sent=MESSAGES, received=len(processed),
                   lost=len(set(sent) - set(processed)), duplicated=len(processed) - len(set(processed)),
                   restarts=len(kinds), kinds=kinds, resent=client.resent,
                   duplicate_acks_dropped=client.duplicates_dropped, reconnect_waits=len(backoff.waits),
                   longest_wait=round(max(delay for _attempt, delay in backoff.waits), 3))
    with capsys.disabled():
        print(f"\nreconnect test: {figures}")
    assert processed == sent, figures  # none lost, none doubled, in order, at the server
    assert received == [f"Server: {text}" for text in sent], figures  # and the same at the client
    assert client.resent > 0, f"no restart caught a message in flight, so nothing was tested: {figures}"
    assert client.pending == []
    assert len(backoff.waits) >= RESTARTS
    shortest, cap = FAST["first_delay"] * (1 - backoff.jitter), FAST["max_delay"]
    for attempt, delay in backoff.waits:
        low, high = backoff.bounds(attempt)
        assert shortest <= low <= delay <= high <= cap, (attempt, delay)


def test_a_naive_client_loses_what_is_sent_while_the_server_restarts_and_this_one_does_not(
    start_server, chat, echo_server
):
    # Naive: the article's page (ChatClient without reconnect) with the article's server.
    naive = chat(echo_server.url, lang="en")
    handler = AckingEcho()
    server = start_server(handler, subprotocols=[PROTOCOL])
    reliable = chat(server.url, lang="en", reconnect=Backoff(**FAST))
    delivered = {}
    for name, client, restartable in (("naive", naive, echo_server), ("reliable", reliable, server)):
        for text in ("one", "two", "three", "four"):
            if text == "three":
                restartable.stop()
                client.wait_state("closed", "reconnecting")
            if text == "four":
                restartable.start()
            try:
                client.send(text)
            except NotConnectedError:
                pass  # not sent: the user has to notice and type it again
        delivered[name] = len(client.wait_for(2 if name == "naive" else 4, timeout=10))
    assert delivered == {"naive": 2, "reliable": 4}
    assert [text for _c, _i, text in handler.processed] == ["one", "two", "three", "four"]
