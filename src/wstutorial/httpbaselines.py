"""The HTTP ways of doing what WebSocket does, for lesson 03 to measure against: server and clients.

One small HTTP/1.1 server (asyncio, on the helper's background loop) answers like the article's
WebSocket server, ``Server: <message>``, in the three ways web pages did it before WebSocket:

    POST /echo                 the reply in the response (a new connection per message: Connection: close)
    POST /send?session=ID      204; the reply waits in the session's mailbox ...
    GET  /poll?session=ID      ... for a poll: 200 with the next reply, or 204 when there is none yet
    GET  /wait?session=ID      ... or for a long poll: held open until a reply (or a push) arrives

It is written by hand rather than with ``http.server`` so that every byte it sends is fixed by
this file (``http.server`` adds ``Server: BaseHTTP/0.6 Python/3.x.y``, whose length changes with
the Python version): the lesson prints bytes per message exactly. Its responses carry what a lean
real server sends: Date, Content-Type, Content-Length, Cache-Control.

The three client exchanges (`new_request_per_message`, `keep_alive_polling`, `long_polling`) send
each message and read its reply through sockets a `measure.Meter` counts. Nothing here prints.
"""

from __future__ import annotations

import asyncio
import errno
import secrets
import weakref
from collections import deque
from dataclasses import dataclass, field
from email.utils import formatdate
from urllib.parse import parse_qs, urlsplit

from . import loop, reruns
from .i18n import add_messages, t

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
HOLD_SECONDS = 25.0  # a long poll is answered 204 after this long without news, as real servers do
MAX_HEAD = 16 * 1024

MESSAGES = {
    "http_port_in_use": {
        "en": "Port {port} on {host} is already in use. Leave port=0 (the default) to get a free port.",
        "id": "Port {port} di {host} sudah dipakai. Biarkan port=0 (bawaan) agar mendapat port yang bebas.",
    },
    "http_not_found": {
        "en": "Not found: {path}. This server knows /echo, /send, /poll and /wait.",
        "id": "Tidak ditemukan: {path}. Server ini mengenal /echo, /send, /poll, dan /wait.",
    },
    "http_wrong_method": {
        "en": "{path} takes {allowed}, not {method}.",
        "id": "{path} menerima {allowed}, bukan {method}.",
    },
    "http_no_session": {
        "en": "{path} needs ?session=ID, the mailbox your replies wait in.",
        "id": "{path} memerlukan ?session=ID, kotak surat tempat balasan Anda menunggu.",
    },
    "http_bad_request": {
        "en": "Bad request: {why}.",
        "id": "Permintaan tidak valid: {why}.",
    },
    "http_unexpected_status": {
        "en": "{method} {target} answered HTTP {status} {body!r}, expected {expected}.",
        "id": "{method} {target} dijawab HTTP {status} {body!r}, seharusnya {expected}.",
    },
    "http_closed_early": {
        "en": "the HTTP server closed the connection before answering {method} {target}.",
        "id": "server HTTP menutup koneksi sebelum menjawab {method} {target}.",
    },
    "headers_minimal": {"en": "minimal headers", "id": "header minimal"},
    "headers_browser": {"en": "browser-like headers", "id": "header ala browser"},
    "http_stopped": {
        "en": "this HTTP server is stopped: call .start() first.",
        "id": "server HTTP ini sudah berhenti: panggil .start() dulu.",
    },
}
add_messages(MESSAGES)

REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           411: "Length Required", 431: "Request Header Fields Too Large"}
ROUTES = {"/echo": "POST", "/send": "POST", "/poll": "GET", "/wait": "GET"}

_running: weakref.WeakSet[HttpBaselineServer] = weakref.WeakSet()


# --- what the client sends besides the message ---------------------------------------------------

# A page served from another local web server (say JupyterLab on port 8888) talks to ours, so the
# Origin and Referer have a fixed length whatever port ours got.
PAGE_ORIGIN = "http://127.0.0.1:8888"
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
BROWSER_COOKIE = "session=3f9a1c7e5b2d4e6f8a0b1c2d3e4f5a6b; theme=dark"


@dataclass(frozen=True)
class HeaderSet:
    """Headers a client adds to each HTTP request, and to the WebSocket opening handshake.

    Host (and Content-Length for a body) are always sent: HTTP/1.1 requires them.
    """

    key: str
    request: dict[str, str] = field(default_factory=dict)
    handshake: dict[str, str] = field(default_factory=dict)
    user_agent: str | None = None

    @property
    def label(self) -> str:
        return t(f"headers_{self.key}")


MINIMAL = HeaderSet("minimal")
"""Nothing but what HTTP/1.1 requires: the floor for any HTTP client (curl sends more)."""

BROWSER = HeaderSet(
    "browser",
    # Modelled on what Chrome 131 sends for fetch() (DevTools, "Request Headers"); real sites'
    # cookies are often much longer than this one.
    request={
        "Connection": "keep-alive",
        "sec-ch-ua-platform": '"Linux"',
        "User-Agent": BROWSER_USER_AGENT,
        "sec-ch-ua": '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
        "sec-ch-ua-mobile": "?0",
        "Accept": "*/*",
        "Origin": PAGE_ORIGIN,
        "Sec-Fetch-Site": "same-site",
        "Sec-Fetch-Mode": "cors",
        "Sec-Fetch-Dest": "empty",
        "Referer": PAGE_ORIGIN + "/",
        "Accept-Encoding": "gzip, deflate, br, zstd",
        "Accept-Language": "en-US,en;q=0.9,id;q=0.8",
        "Cookie": BROWSER_COOKIE,
    },
    # What the same browser adds to `new WebSocket(url)`'s handshake (websockets adds the rest).
    handshake={
        "Pragma": "no-cache",
        "Cache-Control": "no-cache",
        "Origin": PAGE_ORIGIN,
        "Accept-Encoding": "gzip, deflate, br, zstd",
        "Accept-Language": "en-US,en;q=0.9,id;q=0.8",
        "Cookie": BROWSER_COOKIE,
    },
    user_agent=BROWSER_USER_AGENT,
)
"""Headers like a browser's (User-Agent, Accept, Origin, Cookie, client hints ...)."""


# --- the server ----------------------------------------------------------------------------------


class _Mailbox:
    """Replies waiting for a poll or a long poll, in order. Lives on the background loop."""

    def __init__(self) -> None:
        self.waiting: deque[str] = deque()
        self._arrived = asyncio.Event()

    def put(self, text: str) -> None:
        self.waiting.append(text)
        self._arrived.set()

    def give_back(self, text: str) -> None:
        # A long poll whose client left never delivered this reply: the next request gets it.
        self.waiting.appendleft(text)
        self._arrived.set()

    async def take(self) -> str:
        while not self.waiting:
            self._arrived.clear()
            await self._arrived.wait()
        return self.waiting.popleft()


class HttpBaselineServer:
    """An HTTP/1.1 server on the helper's background loop. Make one with `serve_http_baselines`.

    It counts what it does (`connections`, `requests`, `bytes_received`, `bytes_sent`), so a test
    can compare the server's view of the wire with the client's.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.connections = self.requests = self.bytes_received = self.bytes_sent = 0
        self.errors: list[BaseException] = []
        self._server: asyncio.Server | None = None
        self._mailboxes: dict[str, _Mailbox] = {}
        self._tasks: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.is_serving()

    def start(self) -> HttpBaselineServer:
        """Start listening; returns once listening (on the same port again after `stop`)."""
        if not self.running:
            loop.run(self._start(), timeout=START_TIMEOUT)
            _running.add(self)
        return self

    def stop(self) -> None:
        """Stop listening and close every connection, held long polls included; the port is free on return."""
        reruns.forget(self)
        if self._server is not None:
            loop.run(self._stop(), timeout=STOP_TIMEOUT)
        _running.discard(self)

    def push(self, session: str, text: str) -> None:
        """Put `text` in `session`'s mailbox unasked: a held long poll returns it at once."""
        if not self.running:
            raise RuntimeError(t("http_stopped"))
        loop.run(self._push(session, text), timeout=STOP_TIMEOUT)

    def __enter__(self) -> HttpBaselineServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<HttpBaselineServer {self.url} {'running' if self.running else 'stopped'}>"

    async def _push(self, session: str, text: str) -> None:
        self._mailbox(session).put(text)

    async def _start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._serve, self.host, self.port, limit=MAX_HEAD)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise OSError(errno.EADDRINUSE, t("http_port_in_use", host=self.host, port=self.port)) from None
            raise
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        server, self._server = self._server, None
        server.close()
        for task in list(self._tasks):
            task.cancel()
        for writer in list(self._writers):
            writer.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await server.wait_closed()

    def _mailbox(self, session: str) -> _Mailbox:
        return self._mailboxes.setdefault(session, _Mailbox())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        self._writers.add(writer)
        self.connections += 1
        try:
            while await self._answer_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away; nothing of theirs is lost (see _Mailbox.give_back)
        except asyncio.CancelledError:
            pass  # stop()
        except Exception as error:  # a bug here must not stop the server serving others
            self.errors.append(error)
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def _answer_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read one request and answer it; False when the connection should close."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as eof:
            self.bytes_received += len(eof.partial)
            return False
        except asyncio.LimitOverrunError:
            await self._respond(writer, 431, t("http_bad_request", why="headers > 16 KiB"), close=True)
            return False
        self.bytes_received += len(head)
        try:
            method, target, version, headers = _parse_head(head)
        except ValueError as error:
            await self._respond(writer, 400, t("http_bad_request", why=error), close=True)
            return False
        if "chunked" in headers.get("transfer-encoding", ""):
            await self._respond(writer, 411, t("http_bad_request", why="send Content-Length"), close=True)
            return False
        length = headers.get("content-length", "0")
        if not length.isdigit():
            await self._respond(writer, 400, t("http_bad_request", why=f"Content-Length {length[:20]!r}"), close=True)
            return False
        body = await reader.readexactly(int(length))
        self.bytes_received += len(body)
        self.requests += 1
        close = headers.get("connection", "").lower() == "close" or version != "HTTP/1.1"
        status, text = await self._route(method, target, body, reader)
        await self._respond(writer, status, text, close=close)
        return not close

    async def _route(
        self, method: str, target: str, body: bytes, reader: asyncio.StreamReader
    ) -> tuple[int, str | None]:
        parts = urlsplit(target)
        path = parts.path
        if path not in ROUTES:
            return 404, t("http_not_found", path=path)
        if method != ROUTES[path]:
            return 405, t("http_wrong_method", path=path, allowed=ROUTES[path], method=method)
        try:
            text = body.decode()
        except UnicodeDecodeError:
            return 400, t("http_bad_request", why="the body is not UTF-8")
        if path == "/echo":
            return 200, f"Server: {text}"
        session = parse_qs(parts.query).get("session", [""])[0]
        if not session:
            return 400, t("http_no_session", path=path)
        mailbox = self._mailbox(session)
        if path == "/send":
            mailbox.put(f"Server: {text}")
            return 204, None
        if path == "/poll":
            return (200, mailbox.waiting.popleft()) if mailbox.waiting else (204, None)
        return await self._hold(mailbox, reader)

    async def _hold(self, mailbox: _Mailbox, reader: asyncio.StreamReader) -> tuple[int, str | None]:
        """A long poll: wait for the mailbox, the hold time, or the client leaving, whichever is first."""
        news = asyncio.ensure_future(mailbox.take())
        gone = asyncio.ensure_future(reader.read(1))  # b"" when the client closes
        try:
            await asyncio.wait({news, gone}, timeout=HOLD_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (news, gone):
                task.cancel()
            # A cancelled read still holds the reader until it has run: wait, or the next read fails.
            await asyncio.wait({news, gone})
        if news.done() and not news.cancelled():
            if gone.done() and not gone.cancelled():
                mailbox.give_back(news.result())
                raise ConnectionResetError
            return 200, news.result()
        if gone.done() and not gone.cancelled():
            raise ConnectionResetError  # the client left (or pipelined, which this server does not do)
        return 204, None

    async def _respond(self, writer: asyncio.StreamWriter, status: int, text: str | None, close: bool) -> None:
        lines = [f"HTTP/1.1 {status} {REASONS[status]}", f"Date: {formatdate(usegmt=True)}"]
        body = b""
        if text is not None:
            body = text.encode()
            lines += ["Content-Type: text/plain; charset=utf-8", f"Content-Length: {len(body)}"]
        lines.append("Cache-Control: no-store")
        if close:
            lines.append("Connection: close")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        writer.write(data)
        self.bytes_sent += len(data)
        await writer.drain()


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        raise ValueError("headers must be ASCII") from None
    request_line, *header_lines = text[:-4].split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x request line: {request_line[:60]!r}")
    headers = {}
    for line in header_lines:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"not a header line: {line[:60]!r}")
        headers[name.strip().lower()] = value.strip()
    return parts[0], parts[1], parts[2], headers


def serve_http_baselines(host: str = "127.0.0.1", port: int = 0) -> HttpBaselineServer:
    """Start the HTTP baseline server in the background on a free port; return once listening.

    Run again from the same notebook cell, it stops the server that cell started before.
    """
    keys = reruns.cell_keys("http-baselines", depth=1)
    for old in reruns.started_before(keys):
        old.stop()
    server = HttpBaselineServer(host, port).start()
    reruns.remember(keys, server)
    return server


def running_http_servers() -> list[HttpBaselineServer]:
    return [server for server in list(_running) if server.running]


# --- the clients ---------------------------------------------------------------------------------


class HttpConnection:
    """One HTTP/1.1 client connection over a socket the meter counts; requests written by hand."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, headers: HeaderSet
    ) -> None:
        self.reader, self.writer, self.host, self.headers = reader, writer, host, headers

    @classmethod
    async def open(cls, meter, url: str, headers: HeaderSet) -> HttpConnection:
        sock = await meter.connect(url)
        reader, writer = await asyncio.open_connection(sock=sock, limit=MAX_HEAD)
        return cls(reader, writer, urlsplit(url).netloc, headers)

    def request_bytes(self, method: str, target: str, body: str | None = None, close: bool = False) -> bytes:
        """The request exactly as it goes on the wire."""
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{name}: {value}" for name, value in self.headers.request.items()
                  if not (close and name == "Connection")]
        data = (body or "").encode()
        if body is not None:
            if self.headers.request:  # a browser labels the body; the minimal client does not
                lines.append("Content-Type: text/plain;charset=UTF-8")
            lines.append(f"Content-Length: {len(data)}")
        if close:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + data

    async def send_request(self, method: str, target: str, body: str | None = None, close: bool = False) -> None:
        self.writer.write(self.request_bytes(method, target, body, close))
        await self.writer.drain()

    async def read_response(self, method: str = "", target: str = "") -> tuple[int, str]:
        """(status, body) of the next response."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            raise ConnectionError(t("http_closed_early", method=method, target=target)) from None
        status_line, *lines = head.decode("ascii")[:-4].split("\r\n")
        length = next((int(v) for n, _, v in (line.partition(":") for line in lines)
                       if n.strip().lower() == "content-length"), 0)
        body = await self.reader.readexactly(length)
        return int(status_line.split(" ")[1]), body.decode()

    async def request(
        self, method: str, target: str, body: str | None = None, expect: int = 200, close: bool = False
    ) -> str:
        """Send a request, read its response; the body, or an error naming what came instead."""
        await self.send_request(method, target, body, close)
        status, text = await self.read_response(method, target)
        if status != expect:
            raise ConnectionError(t("http_unexpected_status", method=method, target=target,
                                    status=status, body=text[:80], expected=expect))
        return text

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass


def new_session() -> str:
    """A session id like a page would make up: 16 hex digits (a fixed length, so bytes stay exact)."""
    return secrets.token_hex(8)


async def new_request_per_message(url: str, meter, messages: list[str], headers: HeaderSet) -> list[str]:
    """Each message its own TCP connection and POST /echo, closed after the reply (HTTP/1.0 style)."""
    replies = []
    with meter.per_message():
        for message in messages:
            with meter.round_trip():
                connection = await HttpConnection.open(meter, url, headers)
                replies.append(await connection.request("POST", "/echo", message, close=True))
                await connection.reader.read()  # the server closes: wait for it, as a client must
                await connection.close()
            meter.requests += 1
    return replies


async def keep_alive_polling(url: str, meter, messages: list[str], headers: HeaderSet) -> list[str]:
    """One kept-alive connection: POST each message, then poll GET until its reply is there.

    The poll follows the POST at once, the best case for polling; a page polling on a timer also
    pays for empty polls and waits half its interval on average.
    """
    session = new_session()
    connection = await HttpConnection.open(meter, url, headers)
    replies = []
    with meter.per_message():
        for message in messages:
            with meter.round_trip():
                await connection.request("POST", f"/send?session={session}", message, expect=204)
                meter.requests += 1
                while True:
                    await connection.send_request("GET", f"/poll?session={session}")
                    status, text = await connection.read_response("GET", "/poll")
                    meter.requests += 1
                    if status == 200:
                        replies.append(text)
                        break
    await connection.close()
    return replies


async def long_polling(url: str, meter, messages: list[str], headers: HeaderSet) -> list[str]:
    """A GET always waiting on one connection; messages go up as POSTs on a second one.

    Each reply ends the waiting GET, and the client sends the next GET at once (counted with the
    message: it is what lets the next reply through). The first GET is set-up.
    """
    session = new_session()
    waiting = await HttpConnection.open(meter, url, headers)
    sending = await HttpConnection.open(meter, url, headers)
    await waiting.send_request("GET", f"/wait?session={session}")
    replies = []
    with meter.per_message():
        for message in messages:
            with meter.round_trip():
                await sending.request("POST", f"/send?session={session}", message, expect=204)
                status, text = await waiting.read_response("GET", "/wait")
                await waiting.send_request("GET", f"/wait?session={session}")
            meter.requests += 2
            replies.append(text if status == 200 else "")
    await sending.close()
    await waiting.close()
    return replies


async def long_poll_once(url: str, session: str, headers: HeaderSet = MINIMAL) -> str:
    """One long poll: GET /wait and return what the server sends, whenever it sends it."""
    from .measure import Meter  # here: measure imports this module

    connection = await HttpConnection.open(Meter(), url, headers)
    try:
        return await connection.request("GET", f"/wait?session={session}")
    finally:
        await connection.close()
