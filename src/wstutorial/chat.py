"""The article's HTML client page, rebuilt with ipywidgets and driven from Python.

A text box ("Type your message..."), a Send button (Enter sends too), and a list of received
messages shown as ``Message: ...``, like the article's page, plus a line that tells how the
connection is doing. The connection lives on the helper's background loop; widgets are updated by
setting traits, which ipykernel sends safely from any thread.

By default it is the article's page: one connection, and a closed connection stays closed (lesson 01
shows that). ``reconnect=True`` (lesson 05) makes it reconnect with backoff and keep what is sent
in an outbox; with a server that speaks `reliable.PROTOCOL` nothing is lost or duplicated.

``ssl=context`` connects to a ``wss://`` server whose certificate a local authority signed (lesson
07); when TLS fails, the status line says why in the learner's words (`tls.explain_tls_error`).
"""

from __future__ import annotations

import asyncio
import collections
import html
import json
import reprlib
import ssl as ssl_module
import threading
import time
from typing import Any

import ipywidgets as widgets
from websockets.asyncio.client import ClientConnection, connect
from websockets.client import process_exception
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus, InvalidURI

from . import loop, reruns
from .backoff import Backoff
from .closes import close_details, close_values
from .i18n import add_messages, check_language, get_language, t
from .logs import LogToList
from .reliable import PROTOCOL, Outbox, new_client_id, with_client_id
from .tls import explain_tls_error

OPEN_TIMEOUT = 10.0
SEND_TIMEOUT = 10.0
CLOSE_TIMEOUT = 2.0
SHOWN_MESSAGES = 200  # the widget shows the latest; `messages` keeps them all
PING_INTERVAL = 20.0  # websockets' defaults: a silent peer is found within ping_interval + ping_timeout
PING_TIMEOUT = 20.0

add_messages(
    {
        "reconnect_status": {"en": "{why}. {next}", "id": "{why}. {next}"},
        "waiting_in_outbox": {
            "en": " · {count} waiting in the outbox",
            "id": " · {count} menunggu di kotak keluar",
        },
        "wait_state_timeout": {
            "en": "the client did not reach {wanted} within {timeout} s (status: {status}).",
            "id": "klien tidak mencapai {wanted} dalam {timeout} detik (status: {status}).",
        },
        "ssl_for_ws_url": {
            "en": "ssl=... is for wss:// URLs, and {url} is a ws:// URL (no TLS). Use the server's"
            " wss:// URL (server.url of a server started with ssl=...), or leave ssl out.",
            "id": "ssl=... untuk URL wss://, sedangkan {url} adalah URL ws:// (tanpa TLS). Pakai URL"
            " wss:// milik server (server.url dari server yang dijalankan dengan ssl=...), atau jangan"
            " berikan ssl.",
        },
    }
)


class NotConnectedError(ConnectionError):
    """The client is not connected, so the message was not sent. The message says why."""


class ChatClient:
    """The article's WebSocket client page as a widget, connected to `url`.

    It displays itself when created in a notebook. ``send`` is what typing and pressing Send does;
    ``messages`` holds what arrived, in order; ``wait_for(n)`` blocks until n messages are there.
    Created again from the same notebook cell, it closes the client that cell made before.

    ``reconnect=True`` (or a `Backoff`) makes it come back after a dropped connection: ``send``
    then never fails for being disconnected, it queues in an outbox (``pending``) instead; the
    status line says "Reconnecting in 2.1 s (attempt 3)". A server that accepts the subprotocol
    `reliable.PROTOCOL` acknowledges each message, so nothing is lost or shown twice.

    ``ssl=context`` (an `ssl.SSLContext` that trusts the server's authority) is used for every
    connection, reconnections included; ``origin`` sets the ``Origin`` header a browser would send.
    """

    def __init__(
        self,
        url: str,
        lang: str | None = None,
        *,
        open_timeout: float = OPEN_TIMEOUT,
        reconnect: bool | Backoff = False,
        ping_interval: float | None = PING_INTERVAL,
        ping_timeout: float | None = PING_TIMEOUT,
        ssl: ssl_module.SSLContext | None = None,
        origin: str | None = None,
    ):
        self.url = url
        self.ssl = ssl
        self.origin = origin
        self.lang = check_language(lang) if lang is not None else get_language()
        self.open_timeout = open_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        # reconnect=True uses the default schedule; a Backoff(...) chooses another one.
        self.backoff: Backoff | None = (
            reconnect if isinstance(reconnect, Backoff) else Backoff() if reconnect else None
        )
        self.reliable = False  # whether the server acknowledges messages (it chose PROTOCOL)
        self.client_id = new_client_id()
        self.duplicates_dropped = 0  # acknowledgements seen twice, not shown twice
        self._outbox = Outbox()
        self._wake_sender = asyncio.Event()
        self._stopping = False
        self._reconnect_status = ""
        self.messages: list[str | bytes] = []
        self.log: list[str] = []  # what websockets had to say about this connection
        self.state = "connecting"
        self.close_code: int | None = None
        self.close_reason = ""
        self._websocket: ClientConnection | None = None
        self._connection_status = ""  # how the connection is, apart from notes about a send
        self._shown: collections.deque[str] = collections.deque(maxlen=SHOWN_MESSAGES)
        self._settled = threading.Event()  # the connection attempt is over, one way or another
        self._changed = threading.Condition()

        self.status_label = widgets.HTML()  # an HTML widget wraps a long explanation; a Label cuts it off
        self.input = widgets.Text(placeholder=t("placeholder", self.lang))
        self.send_button = widgets.Button(description=t("send", self.lang))
        self.messages_view = widgets.HTML()
        self.widget = widgets.VBox(
            [
                widgets.HTML("<b>WebSocket Client</b>"),
                self.status_label,
                widgets.HBox([self.input, self.send_button]),
                self.messages_view,
            ]
        )
        self.send_button.on_click(lambda _button: self._send_from_widget())
        self.input.on_msg(self._on_input_event)

        self._connection_status = t("connecting", self.lang, url=url)
        self._set_status(self._connection_status)
        keys = reruns.cell_keys("client", depth=1)
        for earlier in reruns.started_before(keys):
            earlier.close()
        self._runner: asyncio.Task[None] = loop.run(self._start_runner(), timeout=SEND_TIMEOUT)
        reruns.remember(keys, self)
        _display_in_notebook(self)

    # What a learner calls.

    @property
    def status(self) -> str:
        """The connection status line, as the widget shows it."""
        return html.unescape(self.status_label.value)

    def send(self, text: str | bytes) -> None:
        """Send one message, as typing it and pressing Send does. Raises if it cannot be sent.

        A reconnecting client puts the message in its outbox and returns at once, connected or not;
        it leaves the outbox when the server acknowledges it (or, with a server that does not
        acknowledge, once it is written to the connection).
        """
        if self.backoff is not None:
            if not isinstance(text, str):
                raise TypeError(t("reliable_text_only", self.lang, kind=type(text).__name__))
            if self.state in ("closed", "error"):
                raise NotConnectedError(
                    t("send_failed", self.lang, text=reprlib.repr(text), why=self._connection_status)
                )
            loop.run(self._enqueue(text), timeout=SEND_TIMEOUT)
            return
        if not self._settled.wait(self.open_timeout + 1) or self._websocket is None:
            why = self._connection_status
            raise NotConnectedError(t("send_failed", self.lang, text=reprlib.repr(text), why=why))
        try:
            loop.run(self._websocket.send(text), timeout=SEND_TIMEOUT)
        except ConnectionClosed as closed:
            why = t("closed", self.lang, **close_details(closed, self.lang))
            raise NotConnectedError(t("send_failed", self.lang, text=reprlib.repr(text), why=why)) from None

    def wait_for(self, count: int, timeout: float = 5) -> list[str | bytes]:
        """Block until `count` messages have arrived in all; return them (a copy of ``messages``)."""
        with self._changed:
            done = self._changed.wait_for(
                lambda: len(self.messages) >= count or self.state in ("closed", "error"), timeout
            )
            if len(self.messages) >= count:
                return list(self.messages)
        why = t("wait_timeout", self.lang, got=len(self.messages), want=count, timeout=timeout,
                status=self.status)
        raise (NotConnectedError(why) if done else TimeoutError(why))

    def wait_state(self, *states: str, timeout: float = 5) -> str:
        """Block until ``state`` is one of `states` (e.g. "open", "reconnecting"); return it."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.state in states, timeout):
                raise TimeoutError(t("wait_state_timeout", self.lang, wanted=" / ".join(states),
                                     timeout=timeout, status=self.status))
            return self.state

    @property
    def pending(self) -> list[str]:
        """A reconnecting client's messages not acknowledged yet (or not sent yet), oldest first."""
        return loop.run(self._pending(), timeout=SEND_TIMEOUT)

    @property
    def resent(self) -> int:
        """How many messages a reconnecting client has sent again after reconnections."""
        return self._outbox.resent

    def wait_closed(self, timeout: float = 5) -> int | None:
        """Block until the connection has closed (or failed); return its close code."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.state in ("closed", "error"), timeout):
                raise TimeoutError(t("close_timeout", self.lang, timeout=timeout, status=self.status))
        return self.close_code

    def close(self) -> None:
        """Close the connection (code 1000) and wait until it is closed. Idempotent."""
        reruns.forget(self)
        loop.run(self._shutdown(), timeout=CLOSE_TIMEOUT + 1)
        if not self._settled.is_set():  # cancelled before it even started connecting
            self._settle("closed", t("closed_while_connecting", self.lang))

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        # The widget's own text form lists every trait, ports and arrival times included.
        bundle["text/plain"] = t("chat_repr", self.lang, url=self.url)
        return bundle

    # The connection, on the background loop.

    async def _start_runner(self) -> asyncio.Task[None]:
        return asyncio.create_task(self._run())

    async def _shutdown(self) -> None:
        self._stopping = True
        if self.backoff is not None:  # the runner closes its connection itself, then stops trying
            self._runner.cancel()
            await asyncio.wait([self._runner])
            return
        if self._websocket is not None:
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await self._websocket.close()
            except TimeoutError:  # the server stopped reading: even the close frame cannot leave
                self._websocket.transport.abort()
        self._runner.cancel()  # still connecting: stop trying; already finished: nothing happens
        await asyncio.wait([self._runner])  # its last words set the state and the status line

    async def _run(self) -> None:
        if self.backoff is not None:
            await self._run_reconnecting(self.backoff)
            return
        try:
            self._websocket = await connect(
                self.url, open_timeout=self.open_timeout, logger=LogToList(self.log),
                **self._connect_options(),
            )
        except asyncio.CancelledError:
            self._settle("closed", t("closed_while_connecting", self.lang))
            raise
        except Exception as error:
            self._settle("error", t("error", self.lang, error=self._explain(error)))
            return
        self._settle("open", t("connected", self.lang, url=self.url))
        try:
            async for message in self._websocket:
                self._receive(message)
        except ConnectionClosed:
            pass
        finally:
            self._remember_close(self._websocket)
            closed = close_values(self.close_code, self.close_reason)
            self._settle("closed", t("closed", self.lang, **closed))

    async def _run_reconnecting(self, backoff: Backoff) -> None:
        """Connect, talk until the connection ends, wait as `backoff` says, and again, until close()."""
        url = with_client_id(self.url, self.client_id)
        why = t("closed_while_connecting", self.lang)  # what the status says if close() comes first
        try:
            while True:
                try:
                    websocket = await connect(
                        url, open_timeout=self.open_timeout, subprotocols=[PROTOCOL],
                        logger=LogToList(self.log), **self._connect_options(),
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    if _retrying_cannot_help(error):
                        self._settle("error", t("error", self.lang, error=self._explain(error)))
                        return
                    why = t("error", self.lang, error=self._explain(error))
                else:
                    opened = time.monotonic()
                    try:
                        await self._talk(websocket)
                    finally:
                        self._remember_close(websocket)
                        why = t("closed", self.lang, **close_values(self.close_code, self.close_reason))
                    backoff.connection_lasted(time.monotonic() - opened)
                delay = backoff.next_delay()
                self._reconnect_status = t("reconnect_status", self.lang, why=why.rstrip("."),
                                           next=backoff.status(delay, self.lang))
                self._settle("reconnecting", self._reconnect_status + self._waiting())
                await asyncio.sleep(delay)
        except asyncio.CancelledError:  # close() was called
            self._settle("closed", why)
            raise

    async def _talk(self, websocket: ClientConnection) -> None:
        """One connection: send the outbox (again, from the oldest unacknowledged), receive, until it ends."""
        self._websocket = websocket
        self.reliable = websocket.subprotocol == PROTOCOL
        self._outbox.rewind()
        self._settle("open", t("connected", self.lang, url=self.url))
        sender = asyncio.create_task(self._send_outbox(websocket))
        try:
            async for message in websocket:
                self._receive_envelope(message) if self.reliable else self._receive(message)
        except ConnectionClosed:
            pass
        finally:
            sender.cancel()
            await asyncio.wait([sender])
            if self._stopping:  # close() was called: close this connection properly (1000)
                await _close_or_abort(websocket)
            self._websocket = None

    async def _send_outbox(self, websocket: ClientConnection) -> None:
        while True:
            envelope = self._outbox.next_unsent()
            if envelope is None:
                self._wake_sender.clear()
                await self._wake_sender.wait()
                continue
            try:
                await websocket.send(envelope.to_json() if self.reliable else envelope.text)
            except ConnectionClosed:
                return  # the next connection sends it again
            if not self.reliable:
                self._outbox.ack(envelope.id)  # no acknowledgement will come: it has left

    async def _enqueue(self, text: str) -> None:
        self._outbox.add(text)
        self._wake_sender.set()
        if self.state == "reconnecting":
            self._set_status(self._reconnect_status + self._waiting())

    async def _pending(self) -> list[str]:
        return [envelope.text for envelope in self._outbox.pending]

    def _waiting(self) -> str:
        count = len(self._outbox)
        return t("waiting_in_outbox", self.lang, count=count) if count else ""

    def _receive_envelope(self, raw: str | bytes) -> None:
        """A message under PROTOCOL: each reply shown once, anything else shown as it came.

        The server acknowledges every copy of a message it gets, so an acknowledgement of an id
        already acknowledged is a duplicate: dropped, not shown twice. Anything else (not JSON, a
        JSON object with neither ``ack`` nor ``text``, an ``ack`` of an id this client never sent)
        is no envelope of ours and is shown as it came: nothing the server sends is silently lost.
        """
        try:
            envelope = json.loads(raw)
        except ValueError:  # not JSON (bytes that are not UTF-8 included)
            envelope = None
        if not isinstance(envelope, dict) or ("ack" not in envelope and "text" not in envelope):
            self._receive(raw)
            return
        if "ack" in envelope:
            ack = envelope["ack"]
            if type(ack) is int and 1 <= ack <= self._outbox.acked:
                self.duplicates_dropped += 1
                return
            if not self._outbox.ack(ack):  # an id this client never sent: not ours to drop
                self._receive(raw)
                return
        if envelope.get("text") is not None:
            self._receive(envelope["text"])

    def _receive(self, message: str | bytes) -> None:
        line = t("message", self.lang, text=message if isinstance(message, str) else repr(message))
        self._shown.append(f"<div>{html.escape(line)}</div>")
        hidden = len(self.messages) + 1 - len(self._shown)
        # Each update sends the whole view to the browser: keep it bounded in a long chat.
        earlier = f"<div><i>{html.escape(t('earlier_messages', self.lang, count=hidden))}</i></div>"
        self.messages_view.value = (earlier if hidden else "") + "".join(self._shown)
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()

    def _settle(self, state: str, status: str) -> None:
        self._connection_status = status
        self._set_status(status)
        with self._changed:
            self.state = state
            self._changed.notify_all()
        self._settled.set()

    def _set_status(self, text: str) -> None:
        self.status_label.value = html.escape(text)

    def _remember_close(self, websocket: ClientConnection) -> None:
        # Ours if we closed first (1011 when keepalive gave up), else the server's; 1006 for neither.
        frame = websocket.protocol.close_sent or websocket.protocol.close_rcvd
        self.close_code = frame.code if frame else websocket.close_code
        self.close_reason = frame.reason if frame else websocket.close_reason or ""

    def _connect_options(self) -> dict[str, Any]:
        """What every connect() gets besides the URL: keepalive, and TLS context and Origin when given."""
        # Only a given context: websockets refuses ssl=None for a wss:// URL (its default is its own).
        options: dict[str, Any] = {"ssl": self.ssl} if self.ssl is not None else {}
        return {
            **options,
            "origin": self.origin,
            "ping_interval": self.ping_interval,
            "ping_timeout": self.ping_timeout,
            "close_timeout": CLOSE_TIMEOUT,  # a peer that stopped answering is not waited for 10 s
        }

    def _explain(self, error: Exception) -> str:
        secure = self.url.lower().startswith("wss:")
        if isinstance(error, ssl_module.SSLError):  # certificate refused, or not TLS on the other end
            return explain_tls_error(error, self.lang)
        if secure and isinstance(error, ConnectionResetError):  # dropped during the TLS handshake
            return explain_tls_error(error, self.lang)
        if not secure and isinstance(error, InvalidMessage):  # a TLS server hangs up on plain HTTP
            return explain_tls_error(error, self.lang)
        if not secure and self.ssl is not None and isinstance(error, ValueError):
            return t("ssl_for_ws_url", self.lang, url=self.url)
        if isinstance(error, InvalidURI):
            return t("bad_url", self.lang, url=self.url, detail=error.msg)
        if isinstance(error, InvalidStatus):
            return t("rejected", self.lang, url=self.url, status=error.response.status_code)
        if isinstance(error, ConnectionRefusedError):
            return t("refused", self.lang, url=self.url)
        if isinstance(error, TimeoutError | asyncio.TimeoutError):
            return t("open_timeout", self.lang, url=self.url, timeout=self.open_timeout)
        return t("unexpected_error", self.lang, error=f"{type(error).__name__}: {error}")

    # What the Send button and Enter do, on the kernel's thread.

    def _on_input_event(self, _widget: object, content: dict[str, Any], _buffers: object) -> None:
        if content.get("event") == "submit":  # Enter: the front end's Text view sends this
            self._send_from_widget()

    def _send_from_widget(self) -> None:
        text = self.input.value
        if not text:
            return
        if self.state != "open" and (self.backoff is None or self.state in ("closed", "error")):
            self._set_status(t("not_connected_kept", self.lang, state=self._connection_status))
            return
        try:
            self.send(text)
        except Exception as error:  # a button's error would only reach JupyterLab's log console
            self._set_status(t("error", self.lang, error=error))  # the text stays in the box
        else:
            self.input.value = ""


def _retrying_cannot_help(error: Exception) -> bool:
    """Whether a reconnecting client should stop: websockets' own rule, plus a TLS failure.

    The certificate and the context stay the same from one attempt to the next, so a refused
    certificate (or TLS spoken to a plain server) fails the same way every time. An end-of-file
    during the handshake is left to websockets' rule: a server going down mid-handshake does that too.
    """
    if isinstance(error, ssl_module.SSLError) and not isinstance(error, ssl_module.SSLEOFError):
        return True
    return process_exception(error) is not None


async def _close_or_abort(websocket: ClientConnection) -> None:
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await websocket.close()
    except TimeoutError:  # the server stopped reading: even the close frame cannot leave
        websocket.transport.abort()


def _display_in_notebook(client: ChatClient) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        display(client)
