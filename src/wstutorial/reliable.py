"""Lose nothing across reconnections: message ids, acknowledgements, an outbox, and dropping duplicates.

The protocol on the wire (lesson 05), agreed in the handshake as the WebSocket subprotocol `PROTOCOL`:

    client -> server   {"id": 7, "text": "hello"}          ids count 1, 2, 3 ... per client
    server -> client   {"ack": 7, "text": "Server: hello"}  sent after the server has processed 7

The client names itself in the URL (``?client=...``) so the server can tell a re-sent message from a
new one after a reconnection. The client keeps every message in its `Outbox` until it is
acknowledged, and after reconnecting sends again, in order, everything not acknowledged. The server
processes an id only if it is higher than the last one it processed for that client and
acknowledges every copy; the client drops an acknowledgement it has already seen. At-least-once on
the wire plus duplicates dropped at both ends: each message is processed once, in order per client.

What it does not promise: the server's memory of processed ids must outlive the server. The lesson
keeps it in an object that survives a restart in the notebook; a real server keeps it in a database.
"""

from __future__ import annotations

import collections
import json
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit, urlunsplit

from websockets.asyncio.server import ServerConnection

from .i18n import add_messages, t

PROTOCOL = "wstutorial.reliable.v1"  # the Sec-WebSocket-Protocol both sides name in the handshake
MAX_PENDING = 10_000  # unacknowledged messages a client keeps before refusing more

add_messages(
    {
        "outbox_full": {
            "en": "Not sent: {count} messages are already waiting for the server's acknowledgement."
            " Wait until the connection is back before sending more.",
            "id": "Tidak terkirim: sudah ada {count} pesan yang menunggu konfirmasi (ack) dari server."
            " Tunggu sampai koneksi pulih sebelum mengirim lagi.",
        },
        "reliable_text_only": {
            "en": "A reconnecting ChatClient sends text (str), not {kind}: its messages travel as JSON.",
            "id": "ChatClient yang menyambung ulang mengirim teks (str), bukan {kind}: pesannya dikirim sebagai JSON.",
        },
        "no_client_id": {
            "en": "The client did not name itself: connect to {path!r} with ?client=<id> in the URL.",
            "id": "Klien tidak menyebut namanya: sambungkan ke {path!r} dengan ?client=<id> di URL.",
        },
    }
)


class OutboxFullError(RuntimeError):
    """Too many messages wait for an acknowledgement: the server has been away for long."""


@dataclass(frozen=True)
class Envelope:
    """One message as the client sends it: its id and its text."""

    id: int
    text: str

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "text": self.text})


class Outbox:
    """The client's messages that the server has not acknowledged yet, oldest first.

    `add` gives each message the next id. `next_unsent` hands the sender what the current
    connection has not carried yet; `rewind` (on a new connection) makes every unacknowledged
    message unsent again. `ack(n)` acknowledges n and everything before it (ids are ordered) and
    says whether that was news: False means a duplicate acknowledgement, to be dropped.
    """

    def __init__(self, limit: int = MAX_PENDING) -> None:
        self.limit = limit
        self.acked = 0  # the highest id the server acknowledged
        self.resent = 0  # messages sent again after a reconnection, in all
        self._pending: collections.deque[Envelope] = collections.deque()
        self._last_id = 0
        self._sent_up_to = 0  # the highest id the current connection carried

    def add(self, text: str) -> Envelope:
        if len(self._pending) >= self.limit:
            raise OutboxFullError(t("outbox_full", count=len(self._pending)))
        self._last_id += 1
        envelope = Envelope(self._last_id, text)
        self._pending.append(envelope)
        return envelope

    def next_unsent(self) -> Envelope | None:
        """The oldest message this connection has not sent yet (now counted as sent), or None."""
        if self._sent_up_to >= self._last_id:
            return None
        self._sent_up_to += 1
        return self._pending[self._sent_up_to - self.acked - 1]

    def rewind(self) -> None:
        """A new connection: whatever was sent but not acknowledged is sent again, in order."""
        self.resent += self._sent_up_to - self.acked
        self._sent_up_to = self.acked

    def ack(self, message_id: int) -> bool:
        """Acknowledge `message_id` and all before it; False if nothing new was acknowledged."""
        if type(message_id) is not int or message_id <= self.acked or message_id > self._last_id:
            return False
        while self._pending and self._pending[0].id <= message_id:
            self._pending.popleft()
        self.acked = message_id
        self._sent_up_to = max(self._sent_up_to, message_id)
        return True

    @property
    def pending(self) -> list[Envelope]:
        return list(self._pending)

    def __len__(self) -> int:
        return len(self._pending)


def new_client_id() -> str:
    return uuid.uuid4().hex[:12]


def with_client_id(url: str, client_id: str) -> str:
    """`url` with ``client=<client_id>`` added to its query."""
    parts = urlsplit(url)
    query = f"{parts.query}&client={client_id}" if parts.query else f"client={client_id}"
    return urlunsplit(parts._replace(query=query))


def client_id_of(websocket: ServerConnection) -> str:
    """The id a client gave in its connect URL (``?client=...``); a clear error without one."""
    path = websocket.request.path
    ids = parse_qs(urlsplit(path).query).get("client")
    if not ids:
        raise ValueError(t("no_client_id", path=path))
    return ids[0]


class AckingEcho:
    """The lesson's acknowledging echo server, as a handler whose memory outlives server restarts.

    It is the handler lesson 05 writes in a cell, kept here for the tests: ``last_processed`` maps
    each client to the highest id processed (one number per client: the state stays small), and
    ``processed`` lists every (client, id, text) processed, in order, to count losses and duplicates.
    """

    def __init__(self) -> None:
        self.last_processed: dict[str, int] = {}
        self.processed: list[tuple[str, int, str]] = []

    async def __call__(self, websocket: ServerConnection) -> None:
        client = client_id_of(websocket)
        async for raw in websocket:
            message = json.loads(raw)
            if message["id"] > self.last_processed.get(client, 0):  # new: process it, once
                await self.process(client, message["id"], message["text"])
                self.last_processed[client] = message["id"]
            # A copy of one already processed is acknowledged again: the first ack may have been lost.
            await websocket.send(json.dumps({"ack": message["id"], "text": f"Server: {message['text']}"}))

    async def process(self, client: str, message_id: int, text: str) -> None:
        """What the server does with a new message: here, remember it. Override to do more."""
        self.processed.append((client, message_id, text))
