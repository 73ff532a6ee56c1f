"""Send hand-made bytes to a WebSocket server, to see how it copes with a frame no library would send.

A real client library always sends well-formed frames, so it cannot show what a server does with
a broken one. `send_raw_frame` opens a plain socket (TLS-wrapped for wss://), performs the
opening handshake by hand, writes the bytes it is given, and reports what came back: the
server's close frame (code and reason), or a connection that just dropped.
"""

from __future__ import annotations

import base64
import os
import socket
import ssl as ssl_module
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from .frames import Frame, IncompleteFrameError, Opcode, decode_frame
from .i18n import add_messages, t

TIMEOUT = 3.0

add_messages(
    {
        "raw_closed": {
            "en": "The server closed the connection: code {code}{reason}",
            "id": "Server menutup koneksi: kode {code}{reason}",
        },
        "raw_dropped": {
            "en": "The connection dropped without a close frame",
            "id": "Koneksi terputus tanpa frame penutup",
        },
        "raw_silent": {
            "en": "The server neither answered nor closed within {timeout} s",
            "id": "Server tidak menjawab dan tidak menutup koneksi dalam {timeout} detik",
        },
        "raw_refused": {
            "en": "The server refused the handshake: {status}",
            "id": "Server menolak handshake: {status}",
        },
        "raw_bad_url": {
            "en": "{url!r} is not a ws:// or wss:// URL; use server.url.",
            "id": "{url!r} bukan URL ws:// atau wss://; pakai server.url.",
        },
    }
)


@dataclass
class RawReply:
    """What a server did after the raw bytes: its status line, then its close frame if any."""

    status: str  # the handshake's status line, e.g. "HTTP/1.1 101 Switching Protocols"
    close_code: int | None = None  # None: no close frame came back
    close_reason: str = ""
    timed_out: bool = False
    lang: str | None = None

    @property
    def accepted(self) -> bool:
        return " 101 " in f"{self.status} "

    def __str__(self) -> str:
        if not self.accepted:
            return t("raw_refused", self.lang, status=self.status)
        if self.close_code is not None:
            reason = f" ({self.close_reason})" if self.close_reason else ""
            return t("raw_closed", self.lang, code=self.close_code, reason=reason)
        if self.timed_out:
            return t("raw_silent", self.lang, timeout=TIMEOUT)
        return t("raw_dropped", self.lang)


def send_raw_frame(
    url: str,
    frame: bytes,
    *,
    ssl: ssl_module.SSLContext | None = None,
    origin: str | None = None,
    timeout: float = TIMEOUT,
    lang: str | None = None,
) -> RawReply:
    """Open a WebSocket connection to `url` by hand, send `frame` as is, report the answer.

    `url` may carry a path and query (a token); `ssl` is the client context for wss://;
    `origin` adds an Origin header, for servers that check it.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(t("raw_bad_url", lang, url=url))
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sock = socket.create_connection((parts.hostname, port), timeout=timeout)
    try:
        if parts.scheme == "wss":
            context = ssl or ssl_module.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=parts.hostname)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {target} HTTP/1.1",
            f"Host: {parts.netloc}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *([f"Origin: {origin}"] if origin else []),
        ]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        received, closed = _read_until(sock, lambda data: b"\r\n\r\n" in data)
        head, _, rest = received.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0].decode("latin-1")
        reply = RawReply(status=status, lang=lang)
        if not reply.accepted:
            return reply
        sock.sendall(frame)
        rest, closed = _read_until(sock, _holds_close_frame, rest, closed)
        reply.close_code, reply.close_reason = _close_frame(rest)
        reply.timed_out = not closed and reply.close_code is None
        return reply
    finally:
        sock.close()


def _read_until(sock: socket.socket, done, data: bytes = b"", closed: bool = False) -> tuple[bytes, bool]:
    """Read until `done(data)`, the peer closes (closed=True) or the socket times out."""
    while not closed and not done(data):
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            break
        except (ConnectionResetError, ssl_module.SSLError, OSError):
            closed = True
            break
        closed = not chunk
        data += chunk
    return data, closed


def _frames(data: bytes) -> Iterator[Frame]:
    """Each complete frame the server sent, in order (lesson 02's decoder)."""
    while data:
        try:
            frame = decode_frame(data)
        except IncompleteFrameError:
            return
        yield frame
        data = data[frame.size :]


def _holds_close_frame(data: bytes) -> bool:
    return any(frame.opcode == Opcode.CLOSE for frame in _frames(data))


def _close_frame(data: bytes) -> tuple[int | None, str]:
    for frame in _frames(data):
        if frame.opcode == Opcode.CLOSE:
            return frame.close_code, frame.close_reason
    return None, ""
