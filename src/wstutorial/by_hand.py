"""Lesson 02 ("Open a WebSocket by hand"): the exercises' self-checks and the full-duplex timeline plot.

The byte-level work itself stays in the lesson's cells; `wstutorial.frames` is the reference it is
compared with. A check says "not tried yet" while the exercise still holds its placeholder (None),
so Run All stays green; on an attempt it asserts, and the message says what to fix and why.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence

from websockets.asyncio.client import connect

from . import loop
from .frames import GUID, close_payload, encode_frame
from .handlers import echo
from .i18n import add_messages, get_language, t
from .server import serve_in_background

CHECK_TIMEOUT = 10.0
RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455, 1.3
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
RFC_MASK = bytes([0x37, 0xFA, 0x21, 0x3D])  # the masking key of RFC 6455, 5.7's examples


def _vectors() -> list[tuple[str, bytes, tuple[bool, int, bytes]]]:
    """(what it is, the frame, the expected (fin, opcode, payload)): RFC 6455, 5.7 first."""
    two_hundred = bytes(range(200))
    return [
        ("rfc_unmasked", bytes.fromhex("81 05 48 65 6c 6c 6f"), (True, 1, b"Hello")),
        ("rfc_masked", bytes.fromhex("81 85 37 fa 21 3d 7f 9f 4d 51 58"), (True, 1, b"Hello")),
        ("rfc_fragment", bytes.fromhex("01 03 48 65 6c"), (False, 1, b"Hel")),
        ("rfc_ping", bytes.fromhex("89 05 48 65 6c 6c 6f"), (True, 9, b"Hello")),
        ("length_16", encode_frame(2, two_hundred, mask_key=RFC_MASK), (True, 2, two_hundred)),
        ("length_64", bytes.fromhex("82 7f 00 00 00 00 00 01 00 00") + bytes(65536), (True, 2, bytes(65536))),
        ("close", encode_frame(8, close_payload(1000, "bye"), mask_key=RFC_MASK), (True, 8, b"\x03\xe8bye")),
    ]


def check_decode(decode: Callable[[bytes], Sequence[object]] | None) -> None:
    """Exercise: ``decode(frame) -> (fin, opcode, payload)``, payload unmasked, for any frame."""
    if decode is None:
        print(t("frames_not_tried"))
        return
    for name, frame, expected in _vectors():
        shown = frame[:12].hex(" ") + (" …" if len(frame) > 12 else "")
        try:
            got = decode(frame)
        except Exception as error:
            error_text = f"{type(error).__name__}: {error}"
            raise AssertionError(
                t("frames_decode_raised", frame=shown, error=error_text, hint=t(f"frames_hint_{name}"))
            ) from None
        try:
            fin, opcode, payload = got
            answer = (bool(fin), int(opcode), bytes(payload))
        except (TypeError, ValueError):
            raise AssertionError(t("frames_decode_shape", got=_short(got))) from None
        if answer != expected:
            hint = t(f"frames_hint_{name}")
            raise AssertionError(
                t("frames_decode_wrong", frame=shown, expected=_short(expected), got=_short(answer), hint=hint)
            )
    print(t("frames_well_done_decode", count=len(_vectors())))


def check_accept_key(accept: Callable[[str], str] | None) -> None:
    """Exercise: ``accept(key) -> Sec-WebSocket-Accept``: RFC 6455's example, then a live server."""
    if accept is None:
        print(t("frames_not_tried"))
        return
    _check_one_key(accept, RFC_KEY, RFC_ACCEPT, t("frames_from_rfc"))
    server = serve_in_background(echo)
    try:
        key, answered = loop.run(_handshake_with(server.url), timeout=CHECK_TIMEOUT)
    finally:
        server.stop()
    _check_one_key(accept, key, answered, t("frames_from_server"))
    print(t("frames_well_done_accept", client_key=key, accept=answered))


async def _handshake_with(url: str) -> tuple[str, str]:
    """The key websockets' client sent to `url`, and the Sec-WebSocket-Accept the server answered."""
    async with connect(url) as websocket:
        request, response = websocket.request, websocket.response
        return request.headers["Sec-WebSocket-Key"], response.headers["Sec-WebSocket-Accept"]


def _check_one_key(accept: Callable[[str], str], key: str, expected: str, source: str) -> None:
    try:
        got = accept(key)
    except Exception as error:
        error_text = f"{type(error).__name__}: {error}"
        raise AssertionError(t("frames_accept_raised", client_key=key, error=error_text)) from None
    if got == expected:
        return
    hint = _accept_hint(key, got)
    raise AssertionError(
        t("frames_accept_wrong", client_key=key, source=source, expected=expected, got=_short(got), hint=hint)
    )


def _accept_hint(key: str, got: object) -> str:
    """Name the usual slip behind a wrong accept value, by recomputing each slip."""
    if isinstance(got, bytes):
        return t("frames_hint_bytes")
    sha1 = hashlib.sha1
    b64 = base64.b64encode
    slips = {
        "frames_hint_no_guid": b64(sha1(key.encode()).digest()).decode(),
        "frames_hint_hexdigest": b64(sha1((key + GUID).encode()).hexdigest().encode()).decode(),
        "frames_hint_hex_only": sha1((key + GUID).encode()).hexdigest(),
        "frames_hint_decoded_key": b64(sha1(base64.b64decode(key) + GUID.encode()).digest()).decode(),
        "frames_hint_guid_first": b64(sha1((GUID + key).encode()).digest()).decode(),
    }
    for hint, value in slips.items():
        if got == value:
            return t(hint)
    return t("frames_hint_accept")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:100] + "…" + text[-15:]


def plot_timeline(timeline: Sequence[tuple[float, str, str]], lang: str | None = None):
    """A two-lane picture of (seconds, direction, text) events: "→" client to server, "←" back.

    Returns a matplotlib Figure, shown when it is a cell's last value: pyplot makes it, so that
    Jupyter's inline backend knows how to draw it, and closes it at once, so it is shown once.
    The server's ticks are unlabelled markers; the client's messages and the answers are labelled.
    """
    import matplotlib.pyplot as plt

    lang = lang or get_language()
    figure, axes = plt.subplots(figsize=(9, 2.6), layout="constrained")
    plt.close(figure)
    lanes = {"→": 1, "←": 0}
    for seconds, direction, text in timeline:
        y = lanes[direction]
        is_tick = text.startswith("tick")
        colour = "tab:blue" if direction == "→" else ("tab:gray" if is_tick else "tab:orange")
        axes.plot([seconds], [y], marker="v" if direction == "→" else "^", color=colour, markersize=8)
        if not is_tick:
            offset = 10 if direction == "→" else -16
            axes.annotate(
                text, (seconds, y), xytext=(0, offset), textcoords="offset points", ha="center", fontsize=8
            )
    axes.set_yticks([0, 1], [t("frames_lane_server", lang), t("frames_lane_client", lang)])
    axes.set_ylim(-0.6, 1.6)
    axes.set_xlabel(t("frames_seconds", lang))
    axes.set_title(t("frames_timeline_title", lang), fontsize=10)
    axes.grid(axis="x", alpha=0.3)
    return figure


add_messages(
    {
        "frames_not_tried": {
            "en": "Not tried yet: write your function in the cell above, run it, then run this cell again.",
            "id": "Belum dicoba: tulis fungsi Anda di sel di atas, jalankan, lalu jalankan sel ini lagi.",
        },
        "frames_well_done_decode": {
            "en": "✓ Well done: your decoder reads all {count} frames right, RFC 6455's examples included.",
            "id": "✓ Bagus: dekoder Anda membaca ke-{count} frame dengan benar, termasuk contoh dari RFC 6455.",
        },
        "frames_well_done_accept": {
            "en": "✓ Well done: RFC 6455's example is right, and a live server agrees (key {client_key} → {accept}).",
            "id": "✓ Bagus: contoh dari RFC 6455 benar, dan server sungguhan pun setuju (key {client_key} → {accept}).",
        },
        "frames_decode_raised": {
            "en": "Your function raised {error} on the frame {frame}. {hint}",
            "id": "Fungsi Anda memunculkan {error} pada frame {frame}. {hint}",
        },
        "frames_decode_shape": {
            "en": "Your function should return three values, `return fin, opcode, payload`"
            " (payload as bytes); it returned {got}.",
            "id": "Fungsi Anda harus mengembalikan tiga nilai, `return fin, opcode, payload`"
            " (payload berupa bytes); yang dikembalikan: {got}.",
        },
        "frames_decode_wrong": {
            "en": "For the frame {frame} expected (fin, opcode, payload) = {expected}, got {got}. {hint}",
            "id": "Untuk frame {frame} seharusnya (fin, opcode, payload) = {expected}, tetapi hasilnya {got}. {hint}",
        },
        "frames_hint_rfc_unmasked": {
            "en": "This is RFC 6455's first example: FIN is the top bit of byte 0 (byte0 >> 7), the opcode"
            " its low 4 bits (byte0 & 0x0F), the length the low 7 bits of byte 1 (byte1 & 0x7F).",
            "id": "Ini contoh pertama RFC 6455: FIN adalah bit teratas byte 0 (byte0 >> 7), opcode adalah"
            " 4 bit terbawahnya (byte0 & 0x0F), panjangnya 7 bit terbawah byte 1 (byte1 & 0x7F).",
        },
        "frames_hint_rfc_masked": {
            "en": "This frame is masked (top bit of byte 1): 4 key bytes follow the length, and payload byte i"
            " is XORed with key[i % 4].",
            "id": "Frame ini di-mask (bit teratas byte 1): 4 byte kunci mengikuti panjangnya, dan byte payload"
            " ke-i di-XOR dengan key[i % 4].",
        },
        "frames_hint_rfc_fragment": {
            "en": "This is the first fragment of a message: FIN is 0, so fin must be False.",
            "id": "Ini pecahan pertama sebuah pesan: FIN bernilai 0, jadi fin harus False.",
        },
        "frames_hint_rfc_ping": {
            "en": "A ping frame: opcode 9, the rest as usual.",
            "id": "Frame ping: opcode 9, selebihnya seperti biasa.",
        },
        "frames_hint_length_16": {
            "en": "The 7-bit length is 126 here: the real length is in the next 2 bytes, big-endian"
            " (struct.unpack('!H', ...)); the masking key comes after them.",
            "id": "Panjang 7 bit di sini bernilai 126: panjang sebenarnya ada di 2 byte berikutnya, big-endian"
            " (struct.unpack('!H', ...)); kunci masking datang setelahnya.",
        },
        "frames_hint_length_64": {
            "en": "The 7-bit length is 127 here: the real length is in the next 8 bytes, big-endian"
            " (struct.unpack('!Q', ...)).",
            "id": "Panjang 7 bit di sini bernilai 127: panjang sebenarnya ada di 8 byte berikutnya, big-endian"
            " (struct.unpack('!Q', ...)).",
        },
        "frames_hint_close": {
            "en": "A masked close frame (opcode 8): its payload, once unmasked, is the code 1000 as 2 bytes"
            " and the reason.",
            "id": "Frame penutup yang di-mask (opcode 8): payload-nya, setelah mask dibuka, berisi kode 1000"
            " sebagai 2 byte lalu alasannya.",
        },
        "frames_from_rfc": {"en": "RFC 6455 section 1.3 gives", "id": "RFC 6455 bagian 1.3 memberikan"},
        "frames_from_server": {"en": "the live server answered", "id": "server sungguhan menjawab"},
        "frames_accept_raised": {
            "en": "Your function raised {error} for the key {client_key!r}.",
            "id": "Fungsi Anda memunculkan {error} untuk key {client_key!r}.",
        },
        "frames_accept_wrong": {
            "en": "For the key {client_key!r}, {source} {expected!r}; your function gave {got}. {hint}",
            "id": "Untuk key {client_key!r}, {source} {expected!r}; fungsi Anda menghasilkan {got}. {hint}",
        },
        "frames_hint_bytes": {
            "en": "Return text (str): base64.b64encode(...) gives bytes; add .decode().",
            "id": "Kembalikan teks (str): base64.b64encode(...) menghasilkan bytes; tambahkan .decode().",
        },
        "frames_hint_no_guid": {
            "en": "You hashed the key alone: append the GUID 258EAFA5-E914-47DA-95CA-C5AB0DC85B11 first.",
            "id": "Anda meng-hash key saja: sambungkan dulu GUID 258EAFA5-E914-47DA-95CA-C5AB0DC85B11.",
        },
        "frames_hint_hexdigest": {
            "en": "You base64-encoded the hex text of the hash: encode the 20 raw bytes, .digest(), not .hexdigest().",
            "id": "Anda meng-encode base64 teks heksadesimal hash-nya: encode 20 byte mentahnya, .digest(), bukan .hexdigest().",
        },
        "frames_hint_hex_only": {
            "en": "That is the SHA-1 in hex: the header carries it in base64, base64.b64encode(....digest()).",
            "id": "Itu SHA-1 dalam heksadesimal: header membawanya dalam base64, base64.b64encode(....digest()).",
        },
        "frames_hint_decoded_key": {
            "en": "You base64-decoded the key: use it as the text it is in the header.",
            "id": "Anda men-decode base64 key-nya: pakai key sebagai teks, persis seperti di header.",
        },
        "frames_hint_guid_first": {
            "en": "The GUID goes after the key: key + GUID.",
            "id": "GUID diletakkan setelah key: key + GUID.",
        },
        "frames_hint_accept": {
            "en": "The accept value is base64(SHA-1(key + GUID)), with the key as text and the GUID"
            " 258EAFA5-E914-47DA-95CA-C5AB0DC85B11.",
            "id": "Nilai accept adalah base64(SHA-1(key + GUID)), dengan key sebagai teks dan GUID"
            " 258EAFA5-E914-47DA-95CA-C5AB0DC85B11.",
        },
        "frames_lane_client": {"en": "client → server", "id": "klien → server"},
        "frames_lane_server": {"en": "server → client", "id": "server → klien"},
        "frames_seconds": {"en": "seconds since the handshake", "id": "detik sejak handshake"},
        "frames_timeline_title": {
            "en": "One TCP connection, both directions at once",
            "id": "Satu koneksi TCP, dua arah sekaligus",
        },
    }
)
