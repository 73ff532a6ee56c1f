"""Measure what each way of exchanging messages really puts on the wire, and how long it takes (lesson 03).

    meter = Meter()
    sock = await meter.connect(url)       # a TCP connection whose every byte is counted
    ...                                   # a handshake, a first request: set-up
    with meter.per_message():             # the bytes in here are divided by the number of messages
        for message in messages:
            with meter.round_trip():      # one latency sample
                ...send, receive...

`measure(name, exchange, url, messages, headers)` runs an exchange written that way (the HTTP ones
are in `httpbaselines`, the lesson writes the WebSocket one), checks that every reply came back, in
order, and returns a `Measurement`: bytes per message in each direction, set-up bytes apart,
latencies, messages per second. Bytes are counted at the client's socket (`CountingSocket`), so
they include every header and frame byte, and nothing TCP/IP adds below the socket.

`bytes_table`, `timing_table`, `plot_bytes` and `plot_latency` show results; `check_frame_size` is
the lesson's exercise check.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from websockets.asyncio.client import connect

from . import loop
from .httpbaselines import HeaderSet
from .i18n import add_messages, t

MESSAGES = {
    "replies_missing": {
        "en": "{method}: {got} replies for {sent} messages. Every message must get its reply.",
        "id": "{method}: {got} balasan untuk {sent} pesan. Setiap pesan harus mendapat balasannya.",
    },
    "reply_wrong": {
        "en": "{method}: message {index} was {message!r}; expected the reply {expected!r}, got {got!r}.",
        "id": "{method}: pesan ke-{index} adalah {message!r}; balasan yang diharapkan {expected!r}, didapat {got!r}.",
    },
    "not_counted": {
        "en": "{method}: no bytes were counted. The exchange must open its connections with"
        " `await meter.connect(url)` and use that socket (connect(url, sock=sock)); on Windows the"
        " event loop must be a selector loop.",
        "id": "{method}: tidak ada byte yang terhitung. Pertukaran harus membuka koneksinya dengan"
        " `await meter.connect(url)` dan memakai socket itu (connect(url, sock=sock)); di Windows"
        " event loop-nya harus selector loop.",
    },
    "no_window": {
        "en": "{method}: the exchange never entered `with meter.per_message():`, so bytes per message are unknown.",
        "id": "{method}: pertukaran tidak pernah masuk ke `with meter.per_message():`, jadi byte per pesan"
        " tidak diketahui.",
    },
    "col_method": {"en": "method", "id": "metode"},
    "col_headers": {"en": "headers", "id": "header"},
    "col_up": {"en": "↑ bytes/msg", "id": "↑ byte/pesan"},
    "col_down": {"en": "↓ bytes/msg", "id": "↓ byte/pesan"},
    "col_total": {"en": "total/msg", "id": "total/pesan"},
    "col_setup": {"en": "set-up+close", "id": "pembukaan+penutupan"},
    "col_amortised": {"en": "with set-up/msg", "id": "dgn pembukaan/pesan"},
    "col_requests": {"en": "HTTP req/msg", "id": "req HTTP/pesan"},
    "col_connections": {"en": "TCP conns", "id": "koneksi TCP"},
    "col_p50": {"en": "p50 ms", "id": "p50 md"},
    "col_p99": {"en": "p99 ms", "id": "p99 md"},
    "col_rate": {"en": "msgs/s", "id": "pesan/dtk"},
    "plot_bytes_title": {
        "en": "Bytes on the wire per message (both directions; set-up not included)",
        "id": "Byte di jaringan per pesan (dua arah; tanpa pembukaan koneksi)",
    },
    "plot_bytes_x": {"en": "bytes per message", "id": "byte per pesan"},
    "plot_payload": {"en": "the messages themselves", "id": "isi pesan itu sendiri"},
    "plot_overhead": {"en": "HTTP headers / WebSocket framing", "id": "header HTTP / framing WebSocket"},
    "plot_latency_title": {
        "en": "Round-trip latency, {count} messages per method ({headers})",
        "id": "Latensi pulang-pergi, {count} pesan per metode ({headers})",
    },
    "plot_latency_x": {"en": "round trip (ms, log scale)", "id": "pulang-pergi (md, skala log)"},
    "plot_latency_y": {
        "en": "share of messages answered within this time",
        "id": "bagian pesan yang dijawab dalam waktu ini",
    },
    "frame_not_tried": {
        "en": "Not tried yet: write frame_size in the cell above, run it, then run this cell again.",
        "id": "Belum dicoba: tulis frame_size di sel di atas, jalankan, lalu jalankan sel ini lagi.",
    },
    "frame_not_function": {
        "en": "frame_size should be a function: def frame_size(payload_length, masked): ...",
        "id": "frame_size harus berupa fungsi: def frame_size(payload_length, masked): ...",
    },
    "frame_wrong": {
        "en": "A {length}-byte message {direction}: frame_size({length}, masked={masked}) gave {got!r},"
        " but the socket carried {measured} bytes. {hint}",
        "id": "Pesan {length} byte {direction}: frame_size({length}, masked={masked}) menghasilkan {got!r},"
        " tetapi socket membawa {measured} byte. {hint}",
    },
    "frame_up": {"en": "from the client (masked)", "id": "dari klien (di-mask)"},
    "frame_down": {"en": "from the server (not masked)", "id": "dari server (tanpa mask)"},
    "hint_short": {
        "en": "Up to 125 bytes, the length fits in the second header byte: 2 header bytes.",
        "id": "Sampai 125 byte, panjangnya muat di byte header kedua: 2 byte header.",
    },
    "hint_medium": {
        "en": "From 126 to 65535 bytes, the second byte says 126 and 2 more bytes carry the length.",
        "id": "Dari 126 sampai 65535 byte, byte kedua berisi 126 dan 2 byte tambahan membawa panjangnya.",
    },
    "hint_long": {
        "en": "From 65536 bytes on, the second byte says 127 and 8 more bytes carry the length.",
        "id": "Mulai 65536 byte, byte kedua berisi 127 dan 8 byte tambahan membawa panjangnya.",
    },
    "hint_mask": {
        "en": "A client's frame also carries a 4-byte masking key; a server's does not.",
        "id": "Frame dari klien juga membawa kunci masking 4 byte; frame dari server tidak.",
    },
    "frame_right": {
        "en": "✓ Well done: frame_size matches what the socket carried for all {count} messages"
        " ({lengths} bytes), in both directions.",
        "id": "✓ Bagus: frame_size cocok dengan yang dibawa socket untuk ke-{count} pesan"
        " ({lengths} byte), di kedua arah.",
    },
}
add_messages(MESSAGES)

REPLY_PREFIX = "Server: "
CHECK_TIMEOUT = 20.0
# Message lengths the frame check sends: each side of the 125 / 126 / 65535 / 65536 borders,
# for the client's frames and (8 bytes longer, "Server: ...") the server's.
CHECK_LENGTHS = (0, 9, 117, 118, 125, 126, 65527, 65528, 65535, 65536)


class CountingSocket(socket.socket):
    """A TCP socket that counts every byte it sends and receives (and keeps them when `record`)."""

    def __init__(self, *args, record: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sent = self.received = 0
        self.record = record
        self.chunks: list[tuple[str, bytes]] = []  # ("→" sent | "←" received, data), when recording

    def _count(self, direction: str, data: bytes | memoryview) -> None:
        if direction == "→":
            self.sent += len(data)
        else:
            self.received += len(data)
        if self.record and len(data):
            if self.chunks and self.chunks[-1][0] == direction:
                self.chunks[-1] = (direction, self.chunks[-1][1] + bytes(data))
            else:
                self.chunks.append((direction, bytes(data)))

    def send(self, data, *args) -> int:
        n = super().send(data, *args)
        self._count("→", memoryview(data).cast("B")[:n])
        return n

    def sendall(self, data, *args) -> None:
        super().sendall(data, *args)
        self._count("→", memoryview(data).cast("B"))

    def sendmsg(self, buffers, *args) -> int:
        buffers = [memoryview(b).cast("B") for b in buffers]
        n = super().sendmsg(buffers, *args)
        self._count("→", b"".join(buffers)[:n])
        return n

    def recv(self, size, *args) -> bytes:
        data = super().recv(size, *args)
        self._count("←", data)
        return data

    def recv_into(self, buffer, nbytes=0, *args) -> int:
        n = super().recv_into(buffer, nbytes, *args)
        self._count("←", memoryview(buffer).cast("B")[:n])
        return n


class Meter:
    """Counts the bytes of the connections it opens and times round trips, for one exchange."""

    def __init__(self, record: bool = False) -> None:
        self.record = record
        self.sockets: list[CountingSocket] = []
        self.latencies: list[float] = []
        self.requests = 0  # HTTP requests the exchange made inside per_message()
        self.window: tuple[int, int, int, int, float] | None = None  # sent, received before; after; seconds

    @property
    def sent(self) -> int:
        return sum(s.sent for s in self.sockets)

    @property
    def received(self) -> int:
        return sum(s.received for s in self.sockets)

    async def connect(self, url: str) -> CountingSocket:
        """Open a TCP connection to `url`'s host and port; every byte through it is counted."""
        parts = urlsplit(url)
        port = parts.port or {"ws": 80, "http": 80, "wss": 443, "https": 443}[parts.scheme]
        running = asyncio.get_running_loop()
        family, kind, proto, _, address = (await running.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM))[0]
        sock = CountingSocket(family, kind, proto, record=self.record)
        sock.setblocking(False)
        try:
            await running.sock_connect(sock, address)
        except BaseException:
            sock.close()
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # what browsers and websockets do
        self.sockets.append(sock)
        return sock

    @contextlib.contextmanager
    def per_message(self) -> Iterator[None]:
        """Bytes counted inside are the messages' own; before is set-up, after is closing."""
        sent, received, started = self.sent, self.received, time.perf_counter()
        yield
        self.window = (sent, received, self.sent, self.received, time.perf_counter() - started)

    @contextlib.contextmanager
    def round_trip(self) -> Iterator[None]:
        """Time one message's round trip: from sending it to having its reply."""
        started = time.perf_counter()
        yield
        self.latencies.append(time.perf_counter() - started)

    def wire(self) -> list[tuple[str, bytes]]:
        """What was recorded (Meter(record=True)), socket after socket."""
        return [chunk for sock in self.sockets for chunk in sock.chunks]


Exchange = Callable[[str, Meter, list[str], HeaderSet], Awaitable[list[str]]]


@dataclass
class Measurement:
    """One way of exchanging `count` messages, measured."""

    method: str
    headers: str
    count: int
    payload: int  # bytes of the messages and replies themselves, both directions, all messages
    setup: int  # bytes before the first message (handshakes, a first long-poll GET) and after the last
    sent: int  # bytes client → server while exchanging the messages
    received: int  # bytes server → client while exchanging the messages
    requests: int
    connections: int
    seconds: float
    latencies: list[float] = field(repr=False)

    @property
    def sent_per_message(self) -> float:
        return self.sent / self.count

    @property
    def received_per_message(self) -> float:
        return self.received / self.count

    @property
    def bytes_per_message(self) -> float:
        return (self.sent + self.received) / self.count

    @property
    def amortised_per_message(self) -> float:
        """Bytes per message with the set-up and closing shared out over the messages."""
        return (self.sent + self.received + self.setup) / self.count

    @property
    def overhead_per_message(self) -> float:
        """Bytes per message beyond the message and its reply: headers, or frame headers."""
        return (self.sent + self.received - self.payload) / self.count

    @property
    def p50(self) -> float:
        """Median round trip, seconds."""
        return statistics.median(self.latencies)

    @property
    def p99(self) -> float:
        """99th percentile round trip, seconds (the slowest, with fewer than two messages)."""
        if len(self.latencies) < 2:
            return max(self.latencies)
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[98]

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


async def measure(method: str, exchange: Exchange, url: str, messages: list[str], headers: HeaderSet) -> Measurement:
    """Run `exchange` on `messages` with a fresh meter; check the replies; return the measurement."""
    meter = Meter()
    try:
        replies = await exchange(url, meter, list(messages), headers)
    finally:
        for sock in meter.sockets:
            sock.close()
    check_replies(method, messages, replies)
    if not meter.sockets or meter.sent == 0:
        raise RuntimeError(t("not_counted", method=method))
    if meter.window is None:
        raise RuntimeError(t("no_window", method=method))
    sent_before, received_before, sent_after, received_after, seconds = meter.window
    sent, received = sent_after - sent_before, received_after - received_before
    return Measurement(
        method=method,
        headers=headers.label,
        count=len(messages),
        payload=sum(len(m.encode()) + len(r.encode()) for m, r in zip(messages, replies)),
        setup=meter.sent + meter.received - sent - received,
        sent=sent,
        received=received,
        requests=meter.requests,
        connections=len(meter.sockets),
        seconds=seconds,
        latencies=meter.latencies,
    )


def check_replies(method: str, messages: list[str], replies: list[str]) -> None:
    """Every message got its reply, ``Server: <message>``, in order; else an error naming the first wrong one."""
    if len(replies) != len(messages):
        raise AssertionError(t("replies_missing", method=method, got=len(replies), sent=len(messages)))
    for index, (message, reply) in enumerate(zip(messages, replies)):
        if reply != REPLY_PREFIX + message:
            raise AssertionError(t("reply_wrong", method=method, index=index, message=message,
                                   expected=REPLY_PREFIX + message, got=reply))


# --- showing results -----------------------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths)))
        for line in lines
    )


def bytes_table(results: list[Measurement]) -> str:
    """Bytes per message, requests and connections: exact, the same on every run for fixed headers."""
    header = [t(k) for k in ("col_method", "col_headers", "col_up", "col_down", "col_total",
                             "col_setup", "col_amortised", "col_requests", "col_connections")]
    rows = [[r.method, r.headers, _number(r.sent_per_message), _number(r.received_per_message),
             _number(r.bytes_per_message), str(r.setup), _number(r.amortised_per_message),
             _number(r.requests / r.count), str(r.connections)]
            for r in results]
    return _table(header, rows)


def timing_table(results: list[Measurement]) -> str:
    """Median and 99th-percentile round trip and messages per second: they change on every run."""
    header = [t(k) for k in ("col_method", "col_headers", "col_p50", "col_p99", "col_rate")]
    rows = [[r.method, r.headers, f"{r.p50 * 1000:.3f}", f"{r.p99 * 1000:.3f}", f"{r.per_second:,.0f}"]
            for r in results]
    return _table(header, rows)


class Chart:
    """A matplotlib figure that shows itself as a PNG when a cell returns it.

    Made without pyplot, so no figure lingers in pyplot's global list and no backend setting
    decides whether (or how many times) it appears: the cell's value is the one display.
    """

    def __init__(self, figure, title: str) -> None:
        self.figure, self.title = figure, title

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

    def __repr__(self) -> str:
        return self.title


def plot_bytes(results: list[Measurement]) -> Chart:
    """A horizontal bar per measurement: the messages' own bytes, and what the protocol adds."""
    from matplotlib.figure import Figure

    labels = [f"{r.method}\n({r.headers})" for r in results]
    payload = [r.payload / r.count for r in results]
    overhead = [r.overhead_per_message for r in results]
    figure = Figure(figsize=(9, 0.55 * len(results) + 1.5))
    axes = figure.subplots()
    axes.barh(labels, payload, color="tab:green", label=t("plot_payload"))
    axes.barh(labels, overhead, left=payload, color="tab:gray", label=t("plot_overhead"))
    for y, r in enumerate(results):
        axes.text(r.bytes_per_message, y, f" {_number(r.bytes_per_message)}", va="center")
    axes.invert_yaxis()
    axes.set_xlabel(t("plot_bytes_x"))
    axes.set_title(t("plot_bytes_title"))
    axes.set_xlim(0, max(r.bytes_per_message for r in results) * 1.15)
    axes.legend(loc="lower right")
    figure.tight_layout()
    return Chart(figure, t("plot_bytes_title"))


def plot_latency(results: list[Measurement]) -> Chart:
    """The latency distribution of each measurement as an ECDF, on a log scale."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=(9, 4.5))
    axes = figure.subplots()
    for r in results:
        samples = sorted(x * 1000 for x in r.latencies)
        shares = [(i + 1) / len(samples) for i in range(len(samples))]
        axes.step(samples, shares, where="post", label=r.method)
    axes.set_xscale("log")
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))  # 0.1, not 10⁻¹
    axes.set_xlabel(t("plot_latency_x"))
    axes.set_ylabel(t("plot_latency_y"))
    headers = ", ".join(sorted({r.headers for r in results}))
    title = t("plot_latency_title", count=results[0].count, headers=headers)
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    return Chart(figure, title)


def print_wire(meter: Meter) -> None:
    """Print what a recording meter saw: HTTP as text, WebSocket frames as their first bytes and size."""
    for direction, data in meter.wire():
        if data[:1].isalpha():  # HTTP text (a request line or a status line)
            head, _, body = data.partition(b"\r\n\r\n")
            print(f"{direction} {len(data)} bytes")
            for line in head.decode("latin-1").split("\r\n"):
                print(f"  {line}")
            print("")
            if body:
                print(f"  {body.decode('utf-8', 'replace')}")
        else:
            print(f"{direction} {len(data)} bytes: {data[0]:02x} {data[1]:02x} …")


# --- the exercise ----------------------------------------------------------------------------------


def check_frame_size(frame_size: object) -> None:
    """Lesson 03's exercise: `frame_size(payload_length, masked)` against bytes a real socket carried."""
    if frame_size is None:
        print(t("frame_not_tried"))
        return
    if not callable(frame_size):
        raise TypeError(t("frame_not_function"))
    from .handlers import echo
    from .server import serve_in_background

    server = serve_in_background(echo)
    try:
        measured = loop.run(_measure_frames(server.url, CHECK_LENGTHS), timeout=CHECK_TIMEOUT)
    finally:
        server.stop()
    for length, up, down in measured:
        for size, masked, measured_bytes in ((length, True, up), (length + len(REPLY_PREFIX), False, down)):
            got = frame_size(size, masked)
            if got != measured_bytes:
                hint = t("hint_short" if size <= 125 else "hint_medium" if size <= 65535 else "hint_long")
                if masked:
                    hint += " " + t("hint_mask")
                raise AssertionError(t("frame_wrong", length=size, masked=masked, got=got, measured=measured_bytes,
                                       direction=t("frame_up" if masked else "frame_down"), hint=hint))
    print(t("frame_right", count=len(measured), lengths=", ".join(map(str, CHECK_LENGTHS))))


async def _measure_frames(url: str, lengths: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """For each length: bytes the client sent for a message that long, and received for its echo."""
    meter = Meter()
    sock = await meter.connect(url)
    found = []
    async with connect(url, sock=sock, compression=None, max_size=None) as websocket:
        for length in lengths:
            sent, received = meter.sent, meter.received
            await websocket.send("x" * length)
            await websocket.recv()
            found.append((length, meter.sent - sent, meter.received - received))
    return found
