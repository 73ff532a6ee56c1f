"""WebSocket's opening-handshake answer and its frames, as RFC 6455 defines them: bytes in, bytes out.

Lesson 02 ("Open a WebSocket by hand") builds these bytes in its cells with ``hashlib``, ``base64``,
``struct`` and bit operations, then compares them with this module, the tested reference. Like the
`websockets` library's own design, the protocol logic here does no I/O at all: no sockets, no
event loop, only functions of bytes, so every rule can be tested against the RFC's own examples.

    accept_key("dGhlIHNhbXBsZSBub25jZQ==")       # "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" (RFC 6455, 1.3)
    encode_frame(Opcode.TEXT, "Hello", mask_key=b"\\x37\\xfa\\x21\\x3d")   # 81 85 37 fa 21 3d 7f 9f 4d 51 58
    decode_frame(bytes.fromhex("810548656c6c6f")).text                 # "Hello"
"""

from __future__ import annotations

import base64
import enum
import hashlib
import reprlib
import struct
from dataclasses import dataclass, field

from .i18n import add_messages, t

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, 1.3: the same for every server
MAX_CONTROL_PAYLOAD = 125  # RFC 6455, 5.5: ping, pong and close carry at most 125 bytes
MAX_LENGTH = 2**63 - 1  # RFC 6455, 5.2: "the most significant bit MUST be 0"


class Opcode(enum.IntEnum):
    """What a frame carries (RFC 6455, 5.2). 3-7 and 11-15 are reserved."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA

    @property
    def is_control(self) -> bool:
        return self >= 0x8


# Close codes a frame may carry (RFC 6455, 7.4.1 and the IANA registry); 3000-4999 are for
# libraries and applications. 1005, 1006 and 1015 only ever describe a close, never travel in one.
CLOSE_CODES = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1007: "invalid frame payload data",
    1008: "policy violation",
    1009: "message too big",
    1010: "mandatory extension",
    1011: "internal error",
    1012: "service restart",
    1013: "try again later",
    1014: "bad gateway",
}
NO_STATUS_RECEIVED = 1005  # what an empty close frame means (RFC 6455, 7.1.5)


class FrameError(ValueError):
    """These bytes are not a frame RFC 6455 allows; the message says what is wrong, and where."""


class IncompleteFrameError(FrameError):
    """The bytes end before the frame does: `needed` bytes in all are required to decode it."""

    def __init__(self, have: int, needed: int) -> None:
        self.have, self.needed = have, needed
        super().__init__(t("frames_incomplete", have=have, needed=needed))


@dataclass(frozen=True)
class Frame:
    """One decoded frame. `payload` is already unmasked; `size` is how many bytes the frame took."""

    fin: bool
    opcode: int
    masked: bool
    length: int
    payload: bytes = field(repr=False)
    mask_key: bytes | None = None
    size: int = 0

    @property
    def kind(self) -> str:
        """"text", "binary", "close", ... : the opcode's name."""
        return Opcode(self.opcode).name.lower()

    @property
    def text(self) -> str:
        """The payload as text (UTF-8), as a text frame must carry it."""
        try:
            return self.payload.decode()
        except UnicodeDecodeError as error:
            raise FrameError(t("frames_not_utf8", position=error.start)) from None

    @property
    def close_code(self) -> int | None:
        """The close code of a close frame (1005 when it carries none); None for other frames."""
        return parse_close(self.payload)[0] if self.opcode == Opcode.CLOSE else None

    @property
    def close_reason(self) -> str | None:
        """The close reason of a close frame ("" when it carries none); None for other frames."""
        return parse_close(self.payload)[1] if self.opcode == Opcode.CLOSE else None

    def __repr__(self) -> str:
        mask = f", mask_key={self.mask_key.hex(' ')}" if self.mask_key is not None else ""
        return (
            f"Frame(fin={self.fin}, opcode={self.opcode} ({self.kind}), masked={self.masked}, "
            f"length={self.length}{mask}, payload={reprlib.repr(self.payload)})"
        )


def accept_key(key: str) -> str:
    """The server's ``Sec-WebSocket-Accept`` for the client's ``Sec-WebSocket-Key`` (RFC 6455, 4.2.2).

    base64(SHA-1(key + GUID)): the key is taken as the text in the header, not base64-decoded.
    It proves the server read this very request as WebSocket; it is no security at all.
    """
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")


def apply_mask(data: bytes, mask_key: bytes) -> bytes:
    """XOR byte i of `data` with ``mask_key[i % 4]``. Masking twice gives the data back."""
    if len(mask_key) != 4:
        raise ValueError(t("frames_mask_key", got=len(mask_key)))
    if not data:
        return b""
    repeated = (mask_key * (len(data) // 4 + 1))[: len(data)]
    # One big-integer XOR instead of a Python loop: 70 kB in well under a millisecond.
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(data), "big")


def encode_frame(
    opcode: int, payload: bytes | str = b"", *, mask_key: bytes | None = None, fin: bool = True
) -> bytes:
    """The bytes of one frame (RFC 6455, 5.2); text payloads are encoded as UTF-8.

    A client must mask every frame it sends (`mask_key`: 4 random bytes, ``os.urandom(4)``);
    a server must not mask. The length takes the shortest of its three forms: 7 bits (0-125),
    126 + 16 bits (up to 65535), or 127 + 64 bits.
    """
    opcode = _known_opcode(opcode)
    data = payload.encode() if isinstance(payload, str) else bytes(payload)
    if opcode.is_control and (len(data) > MAX_CONTROL_PAYLOAD or not fin):
        raise ValueError(t("frames_control_too_big", kind=opcode.name.lower(), length=len(data)))
    if len(data) > MAX_LENGTH:
        raise ValueError(t("frames_too_long", length=len(data)))
    head = bytes([(0x80 if fin else 0) | opcode])
    mask_bit = 0x80 if mask_key is not None else 0
    if len(data) <= 125:
        head += bytes([mask_bit | len(data)])
    elif len(data) <= 0xFFFF:
        head += bytes([mask_bit | 126]) + struct.pack("!H", len(data))
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", len(data))
    if mask_key is None:
        return head + data
    return head + bytes(mask_key) + apply_mask(data, bytes(mask_key))


def header_size(data: bytes) -> int:
    """How many bytes the header of the frame starting `data` takes (2 to 14); needs 2 bytes."""
    if len(data) < 2:
        raise IncompleteFrameError(len(data), 2)
    length_bits = data[1] & 0x7F
    extended = {126: 2, 127: 8}.get(length_bits, 0)
    return 2 + extended + (4 if data[1] & 0x80 else 0)


def decode_frame(data: bytes) -> Frame:
    """Decode the frame at the start of `data`; bytes after it (``frame.size`` on) are left alone.

    Raises `IncompleteFrameError` (saying how many bytes are needed) when `data` ends too early,
    and `FrameError` for anything RFC 6455 forbids: reserved bits or opcodes, a control frame
    that is fragmented or longer than 125 bytes, a 64-bit length with its top bit set.
    """
    data = bytes(data)
    needed = header_size(data)
    if len(data) < needed:
        raise IncompleteFrameError(len(data), needed)
    first, second = data[0], data[1]
    fin = bool(first & 0x80)
    if first & 0x70:
        raise FrameError(t("frames_reserved_bits", bits=f"{(first >> 4) & 0x7:03b}"))
    try:
        opcode = Opcode(first & 0x0F)
    except ValueError:
        raise FrameError(t("frames_reserved_opcode", opcode=first & 0x0F)) from None
    masked = bool(second & 0x80)
    length = second & 0x7F
    offset = 2
    if length == 126:
        (length,) = struct.unpack_from("!H", data, offset)
        offset += 2
    elif length == 127:
        (length,) = struct.unpack_from("!Q", data, offset)
        offset += 8
        if length > MAX_LENGTH:
            raise FrameError(t("frames_length_top_bit"))
    if opcode.is_control and (length > MAX_CONTROL_PAYLOAD or not fin):
        raise FrameError(t("frames_control_too_big", kind=opcode.name.lower(), length=length))
    mask_key = None
    if masked:
        mask_key = data[offset : offset + 4]
        offset += 4
    if len(data) < offset + length:
        raise IncompleteFrameError(len(data), offset + length)
    payload = data[offset : offset + length]
    if mask_key is not None:
        payload = apply_mask(payload, mask_key)
    return Frame(fin, int(opcode), masked, length, payload, mask_key, offset + length)


def close_payload(code: int = 1000, reason: str = "") -> bytes:
    """The payload of a close frame: the code as 2 bytes, big-endian, then the reason in UTF-8."""
    _check_close_code(code)
    data = struct.pack("!H", code) + reason.encode()
    if len(data) > MAX_CONTROL_PAYLOAD:
        raise ValueError(t("frames_control_too_big", kind="close", length=len(data)))
    return data


def parse_close(payload: bytes) -> tuple[int, str]:
    """(code, reason) of a close frame's payload; an empty payload means 1005, "no status"."""
    if len(payload) == 0:
        return NO_STATUS_RECEIVED, ""
    if len(payload) == 1:
        raise FrameError(t("frames_close_one_byte"))
    (code,) = struct.unpack("!H", payload[:2])
    _check_close_code(code, FrameError)
    try:
        reason = bytes(payload[2:]).decode()
    except UnicodeDecodeError as error:
        raise FrameError(t("frames_not_utf8", position=error.start + 2)) from None
    return code, reason


def _known_opcode(opcode: int) -> Opcode:
    try:
        return Opcode(opcode)
    except ValueError:
        raise ValueError(t("frames_reserved_opcode", opcode=opcode)) from None


def _check_close_code(code: int, error: type[Exception] = ValueError) -> None:
    if not (code in CLOSE_CODES or 3000 <= code <= 4999):
        raise error(t("frames_bad_close_code", code=code))


add_messages(
    {
        "frames_incomplete": {
            "en": "the frame is incomplete: {have} bytes so far, {needed} needed. Read more from the socket.",
            "id": "frame belum lengkap: baru {have} byte, perlu {needed}. Baca lagi dari socket.",
        },
        "frames_reserved_bits": {
            "en": "the reserved bits RSV1-3 are {bits}: they must be 000 unless an extension was agreed"
            " in the handshake.",
            "id": "bit cadangan RSV1-3 bernilai {bits}: harus 000 kecuali ada ekstensi yang disepakati"
            " saat handshake.",
        },
        "frames_reserved_opcode": {
            "en": "opcode {opcode} is reserved: use 0 (continuation), 1 (text), 2 (binary), 8 (close),"
            " 9 (ping) or 10 (pong).",
            "id": "opcode {opcode} dicadangkan: pakai 0 (lanjutan), 1 (teks), 2 (biner), 8 (tutup),"
            " 9 (ping), atau 10 (pong).",
        },
        "frames_control_too_big": {
            "en": "a {kind} frame is a control frame: at most 125 bytes (this one has {length})"
            " and never fragmented (FIN must be 1).",
            "id": "frame {kind} adalah frame kontrol: paling banyak 125 byte (yang ini {length})"
            " dan tidak pernah dipecah (FIN harus 1).",
        },
        "frames_too_long": {
            "en": "{length} bytes do not fit in a frame's 63-bit length.",
            "id": "{length} byte tidak muat dalam panjang frame yang 63 bit.",
        },
        "frames_length_top_bit": {
            "en": "the 64-bit length has its top bit set, which RFC 6455 forbids.",
            "id": "panjang 64 bit memiliki bit teratas bernilai 1, yang dilarang RFC 6455.",
        },
        "frames_mask_key": {
            "en": "a masking key is exactly 4 bytes (os.urandom(4)), not {got}.",
            "id": "kunci masking tepat 4 byte (os.urandom(4)), bukan {got}.",
        },
        "frames_close_one_byte": {
            "en": "a close frame's payload is empty or starts with a 2-byte code; it cannot be 1 byte.",
            "id": "payload frame penutup kosong atau diawali kode 2 byte; tidak bisa hanya 1 byte.",
        },
        "frames_bad_close_code": {
            "en": "{code} is not a close code a frame may carry: use 1000-1003, 1007-1014 or 3000-4999.",
            "id": "{code} bukan kode penutupan yang boleh dibawa frame: pakai 1000-1003, 1007-1014,"
            " atau 3000-4999.",
        },
        "frames_not_utf8": {
            "en": "the text is not valid UTF-8 (at byte {position}).",
            "id": "teksnya bukan UTF-8 yang valid (di byte ke-{position}).",
        },
    }
)
