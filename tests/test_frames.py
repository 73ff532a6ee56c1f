"""Lesson 02's reference: the accept key and frames against RFC 6455's own examples and a live server.

The RFC vectors are copied from RFC 6455 section 1.3 (the handshake) and section 5.7 (frames).
The live tests speak raw bytes over a plain socket to the helper's real websockets server.
"""

from __future__ import annotations

import base64
import hashlib
import os
import runpy
import socket
import struct

import nbformat
import pytest
from websockets.frames import Frame as WebsocketsFrame
from websockets.streams import StreamReader

from tools.notebooks import NOTEBOOKS
from wstutorial import echo, set_language
from wstutorial.by_hand import check_accept_key, check_decode, plot_timeline
from wstutorial.frames import (
    GUID,
    FrameError,
    IncompleteFrameError,
    Opcode,
    accept_key,
    apply_mask,
    close_payload,
    decode_frame,
    encode_frame,
    header_size,
    parse_close,
)

RFC_MASK = bytes([0x37, 0xFA, 0x21, 0x3D])


# RFC 6455, section 1.3: the opening handshake's example.


def test_accept_key_matches_rfc_6455_section_1_3():
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_accept_key_is_base64_of_sha1_of_key_and_guid():
    key = new_key()
    assert accept_key(key) == base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


# RFC 6455, section 5.7: the frame examples, decoded and encoded byte for byte.

RFC_FRAMES = [
    pytest.param("81 05 48 65 6c 6c 6f", True, Opcode.TEXT, False, b"Hello", id="unmasked-text"),
    pytest.param("81 85 37 fa 21 3d 7f 9f 4d 51 58", True, Opcode.TEXT, True, b"Hello", id="masked-text"),
    pytest.param("01 03 48 65 6c", False, Opcode.TEXT, False, b"Hel", id="first-fragment"),
    pytest.param("80 02 6c 6f", True, Opcode.CONTINUATION, False, b"lo", id="last-fragment"),
    pytest.param("89 05 48 65 6c 6c 6f", True, Opcode.PING, False, b"Hello", id="unmasked-ping"),
    pytest.param("8a 85 37 fa 21 3d 7f 9f 4d 51 58", True, Opcode.PONG, True, b"Hello", id="masked-pong"),
]


@pytest.mark.parametrize(("hex_bytes", "fin", "opcode", "masked", "payload"), RFC_FRAMES)
def test_decode_frame_reads_the_rfc_examples(hex_bytes, fin, opcode, masked, payload):
    frame = decode_frame(bytes.fromhex(hex_bytes))
    assert (frame.fin, frame.opcode, frame.masked, frame.payload) == (fin, opcode, masked, payload)
    assert frame.length == len(payload)
    assert frame.size == len(bytes.fromhex(hex_bytes))


@pytest.mark.parametrize(("hex_bytes", "fin", "opcode", "masked", "payload"), RFC_FRAMES)
def test_encode_frame_writes_the_rfc_examples(hex_bytes, fin, opcode, masked, payload):
    mask_key = RFC_MASK if masked else None
    assert encode_frame(opcode, payload, mask_key=mask_key, fin=fin) == bytes.fromhex(hex_bytes)


def test_the_rfc_256_byte_binary_frame_uses_the_16_bit_length():
    data = os.urandom(256)
    encoded = encode_frame(Opcode.BINARY, data)
    assert encoded[:4] == bytes.fromhex("82 7E 01 00")
    assert decode_frame(encoded).payload == data


def test_the_rfc_64_kib_binary_frame_uses_the_64_bit_length():
    data = os.urandom(65536)
    encoded = encode_frame(Opcode.BINARY, data)
    assert encoded[:10] == bytes.fromhex("82 7F 00 00 00 00 00 01 00 00")
    assert decode_frame(encoded).payload == data


def test_decoding_the_rfc_64_kib_example_reads_its_8_byte_length():
    frame = decode_frame(bytes.fromhex("82 7F 00 00 00 00 00 01 00 00") + bytes(65536))
    assert (frame.opcode, frame.length, frame.size) == (Opcode.BINARY, 65536, 65546)


# Round trips over every length form and its boundaries.

SIZES = [0, 1, 5, 124, 125, 126, 127, 1000, 65535, 65536, 70000]
HEADER = {0: 2, 1: 2, 5: 2, 124: 2, 125: 2, 126: 4, 127: 4, 1000: 4, 65535: 4, 65536: 10, 70000: 10}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_encode_then_decode_gives_the_payload_back(size, masked):
    data = os.urandom(size)
    mask_key = os.urandom(4) if masked else None
    encoded = encode_frame(Opcode.BINARY, data, mask_key=mask_key)
    frame = decode_frame(encoded)
    assert (frame.payload, frame.length, frame.masked, frame.mask_key) == (data, size, masked, mask_key)
    assert frame.size == len(encoded) == HEADER[size] + (4 if masked else 0) + size
    assert header_size(encoded) == HEADER[size] + (4 if masked else 0)


@pytest.mark.parametrize("size", SIZES)
def test_websockets_own_parser_reads_our_masked_frames(size):
    # An independent reader: the websockets library parses what encode_frame writes.
    data = os.urandom(size)
    reader = StreamReader()
    reader.feed_data(encode_frame(Opcode.BINARY, data, mask_key=os.urandom(4)))
    parser = WebsocketsFrame.parse(reader.read_exact, mask=True)
    with pytest.raises(StopIteration) as parsed:
        next(parser)
    assert parsed.value.value.data == data


def test_masked_payload_is_xor_with_the_key_repeated():
    assert apply_mask(b"Hello", RFC_MASK) == bytes.fromhex("7f 9f 4d 51 58")
    assert apply_mask(apply_mask(b"any bytes at all", RFC_MASK), RFC_MASK) == b"any bytes at all"


def test_text_payloads_are_sent_as_utf8():
    frame = decode_frame(encode_frame(Opcode.TEXT, "Selamat datang ✓", mask_key=RFC_MASK))
    assert frame.text == "Selamat datang ✓"
    assert frame.length == len("Selamat datang ✓".encode())


def test_decode_frame_reads_only_the_first_of_two_frames():
    two = encode_frame(Opcode.TEXT, "one") + encode_frame(Opcode.TEXT, "two")
    first = decode_frame(two)
    assert first.text == "one"
    assert decode_frame(two[first.size :]).text == "two"


# Close frames.


def test_close_payload_is_the_code_in_two_bytes_then_the_reason():
    assert close_payload(1000, "bye") == b"\x03\xe8bye"
    assert parse_close(b"\x03\xe8bye") == (1000, "bye")


def test_a_close_frame_tells_its_code_and_reason():
    frame = decode_frame(encode_frame(Opcode.CLOSE, close_payload(1001, "going away"), mask_key=RFC_MASK))
    assert (frame.kind, frame.close_code, frame.close_reason) == ("close", 1001, "going away")
    assert decode_frame(encode_frame(Opcode.TEXT, "hi")).close_code is None


def test_an_empty_close_frame_means_1005_no_status():
    assert decode_frame(bytes.fromhex("88 00")).close_code == 1005


@pytest.mark.parametrize("code", [1005, 1006, 1015, 999, 2000, 5000])
def test_codes_that_never_travel_in_a_close_frame_are_refused(code, english):
    with pytest.raises(FrameError, match=f"{code} is not a close code"):
        parse_close(struct.pack("!H", code))
    with pytest.raises(ValueError, match=f"{code} is not a close code"):
        close_payload(code)


# What RFC 6455 forbids gets a clear error, never a wrong answer.


def test_a_truncated_frame_says_how_many_bytes_are_needed(english):
    encoded = encode_frame(Opcode.TEXT, "Hello", mask_key=RFC_MASK)
    with pytest.raises(IncompleteFrameError, match="6 bytes so far, 11 needed") as short:
        decode_frame(encoded[:6])
    assert short.value.needed == 11
    with pytest.raises(IncompleteFrameError) as header_only:
        decode_frame(encode_frame(Opcode.BINARY, bytes(300))[:3])
    assert header_only.value.needed == 4


def test_reserved_bits_are_refused(english):
    with pytest.raises(FrameError, match="RSV1-3 are 100"):
        decode_frame(bytes.fromhex("c1 00"))


def test_reserved_opcodes_are_refused(english):
    with pytest.raises(FrameError, match="opcode 3 is reserved"):
        decode_frame(bytes.fromhex("83 00"))
    with pytest.raises(ValueError, match="opcode 11 is reserved"):
        encode_frame(11, b"")


def test_control_frames_stay_short_and_whole(english):
    with pytest.raises(FrameError, match="at most 125 bytes"):
        decode_frame(bytes.fromhex("89 7e 00 7e") + bytes(126))
    with pytest.raises(FrameError, match="never fragmented"):
        decode_frame(bytes.fromhex("09 00"))
    with pytest.raises(ValueError, match="this one has 126"):
        encode_frame(Opcode.PING, bytes(126))


def test_a_64_bit_length_with_its_top_bit_set_is_refused(english):
    with pytest.raises(FrameError, match="top bit"):
        decode_frame(bytes.fromhex("82 7f 80 00 00 00 00 00 00 00"))


def test_a_one_byte_close_payload_is_refused(english):
    with pytest.raises(FrameError, match="cannot be 1 byte"):
        decode_frame(bytes.fromhex("88 01 03")).close_code


def test_a_mask_key_is_four_bytes(english):
    with pytest.raises(ValueError, match=r"exactly 4 bytes \(os.urandom\(4\)\), not 3"):
        encode_frame(Opcode.TEXT, "hi", mask_key=b"abc")


def test_errors_speak_indonesian_when_asked():
    set_language("id")
    try:
        with pytest.raises(IncompleteFrameError, match="frame belum lengkap: baru 1 byte, perlu 2"):
            decode_frame(b"\x81")
    finally:
        set_language("en")


# Against a live websockets server, over a plain TCP socket.


def recv_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {count} bytes")
        data += chunk
    return data


def read_frame(sock: socket.socket) -> bytes:
    """One whole frame's bytes: the header first, then as many bytes as it announces."""
    data = recv_exactly(sock, 2)
    data += recv_exactly(sock, header_size(data) - 2)
    try:
        decode_frame(data)
    except IncompleteFrameError as short:  # the header says how long the payload is
        data += recv_exactly(sock, short.needed - len(data))
    return data


def handshake(server, key: str) -> tuple[socket.socket, str]:
    """Open a TCP connection to `server`, send the Upgrade request by hand; return the socket and head."""
    sock = socket.create_connection((server.host, server.port), timeout=5)
    sock.sendall(
        (
            f"GET / HTTP/1.1\r\nHost: {server.host}:{server.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while not head.endswith(b"\r\n\r\n"):  # byte by byte: never read into the first frame
        head += recv_exactly(sock, 1)
    return sock, head.decode()


def new_key() -> str:
    """A Sec-WebSocket-Key as a real client makes it: 16 random bytes, base64."""
    return base64.b64encode(os.urandom(16)).decode()


def header_value(head: str, name: str) -> str:
    for line in head.split("\r\n")[1:]:
        field, _, value = line.partition(":")
        if field.strip().lower() == name.lower():
            return value.strip()
    raise KeyError(name)


def test_a_hand_written_upgrade_gets_101_and_the_accept_we_compute(echo_server):
    key = new_key()
    sock, head = handshake(echo_server, key)
    with sock:
        assert head.startswith("HTTP/1.1 101 Switching Protocols\r\n")
        assert header_value(head, "Sec-WebSocket-Accept") == accept_key(key)
        assert header_value(head, "Upgrade").lower() == "websocket"


def test_the_server_answers_the_rfc_sample_key_with_the_rfc_accept(echo_server):
    sock, head = handshake(echo_server, "dGhlIHNhbXBsZSBub25jZQ==")
    with sock:
        assert header_value(head, "Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_a_masked_frame_gets_the_echo_back_unmasked(echo_server):
    sock, _ = handshake(echo_server, new_key())
    with sock:
        sock.sendall(encode_frame(Opcode.TEXT, "Hello", mask_key=os.urandom(4)))
        reply = decode_frame(read_frame(sock))
    assert (reply.fin, reply.kind, reply.masked, reply.text) == (True, "text", False, "Server: Hello")


@pytest.mark.parametrize(("size", "header"), [(100, 2), (1000, 4), (70000, 10)], ids=["7-bit", "16-bit", "64-bit"])
def test_each_length_form_travels_to_the_server_and_back(echo_server, size, header):
    text = "x" * size
    sock, _ = handshake(echo_server, new_key())
    with sock:
        sock.sendall(encode_frame(Opcode.TEXT, text, mask_key=os.urandom(4)))
        raw = read_frame(sock)
    reply = decode_frame(raw)
    assert reply.text == f"Server: {text}"
    assert header_size(raw) == header  # "Server: " adds 8 bytes, never crossing a boundary here


def test_a_close_frame_gets_1000_back_and_the_server_ends_the_tcp_connection(echo_server):
    sock, _ = handshake(echo_server, new_key())
    with sock:
        sock.sendall(encode_frame(Opcode.CLOSE, close_payload(1000, "bye"), mask_key=os.urandom(4)))
        reply = decode_frame(read_frame(sock))
        assert (reply.kind, reply.close_code, reply.close_reason) == ("close", 1000, "bye")
        assert sock.recv(1) == b""  # end of stream: the server closed TCP after the closing handshake


def test_an_unmasked_client_frame_gets_1002_and_others_are_still_served(echo_server):
    sock, _ = handshake(echo_server, new_key())
    with sock:
        sock.sendall(encode_frame(Opcode.TEXT, "Hello"))  # no mask_key: a client must mask
        reply = decode_frame(read_frame(sock))
    assert (reply.close_code, reply.close_reason) == (1002, "incorrect masking")
    other, _ = handshake(echo_server, new_key())
    with other:
        other.sendall(encode_frame(Opcode.TEXT, "still there?", mask_key=os.urandom(4)))
        assert decode_frame(read_frame(other)).text == "Server: still there?"


# Keepalive: websockets pings every connection (every 20 s by default) and closes those that never
# answer. Lesson 02's hand-made client reads frames at the learner's pace and never answers pings.


def test_a_keepalive_ping_reaches_a_hand_made_client_instead_of_the_answer_it_waits_for(start_server):
    server = start_server(echo, ping_interval=0.1)  # a short interval, to see what 20 s would do
    sock, _ = handshake(server, new_key())
    with sock:
        first = decode_frame(read_frame(sock))  # what the lesson's read_frame would get
    assert first.opcode == Opcode.PING


@pytest.mark.parametrize("language", ["en", "id"])
def test_lesson_02_serves_its_hand_made_clients_without_keepalive_pings(language, run_cell):
    lesson = nbformat.read(NOTEBOOKS / language / "02-open-a-websocket-by-hand.ipynb", as_version=4)
    (cell,) = [c.source for c in lesson.cells if "\nserver = serve_in_background(" in f"\n{c.source}"]
    server = run_cell(cell)["server"]
    try:
        assert server.options.get("ping_interval", 20) is None  # 20: websockets' default
    finally:
        server.stop()


# The exercises' self-checks.


def load_solution(name: str, function: str):
    return runpy.run_path(str(NOTEBOOKS / "solutions" / name))[function]


def test_decode_solution_passes_its_check(capsys, english):
    check_decode(load_solution("02-decode-frame.py", "decode"))
    assert "✓" in capsys.readouterr().out


def test_accept_key_solution_passes_its_check_against_rfc_and_a_live_server(capsys, english):
    check_accept_key(load_solution("02-accept-key.py", "accept"))
    assert "a live server agrees" in capsys.readouterr().out


@pytest.mark.parametrize("check", [check_decode, check_accept_key])
def test_checks_say_not_tried_while_the_placeholder_is_there(check, capsys, english):
    check(None)
    assert "Not tried yet" in capsys.readouterr().out


def decode_without_unmasking(frame):
    return frame[0] >> 7, frame[0] & 0x0F, frame[2 : 2 + (frame[1] & 0x7F)]


def test_decode_check_fails_a_decoder_that_forgets_the_mask(english):
    with pytest.raises(AssertionError, match=r"81 85 37 fa .* XORed with key\[i % 4\]"):
        check_decode(decode_without_unmasking)


def decode_seven_bit_lengths_only(frame):
    fin, opcode, masked, length = frame[0] >> 7, frame[0] & 0x0F, frame[1] >> 7, frame[1] & 0x7F
    key = frame[2:6] if masked else b"\0\0\0\0"
    start = 6 if masked else 2
    return fin, opcode, bytes(b ^ key[i % 4] for i, b in enumerate(frame[start : start + length]))


def test_decode_check_fails_a_decoder_that_ignores_the_16_bit_length(english):
    with pytest.raises(AssertionError, match=r"126 here: the real length is in the next 2 bytes"):
        check_decode(decode_seven_bit_lengths_only)


def decode_without_the_64_bit_length(frame):
    length, start = frame[1] & 0x7F, 2
    if length == 126:
        (length,), start = struct.unpack("!H", frame[2:4]), 4
    masked = frame[1] >> 7
    key = frame[start : start + 4] if masked else b"\0\0\0\0"
    start += 4 if masked else 0
    return frame[0] >> 7, frame[0] & 0x0F, bytes(b ^ key[i % 4] for i, b in enumerate(frame[start : start + length]))


def test_decode_check_fails_a_decoder_that_ignores_the_64_bit_length(english):
    with pytest.raises(AssertionError, match=r"127 here: the real length is in the next 8 bytes"):
        check_decode(decode_without_the_64_bit_length)


def test_decode_check_names_an_error_the_decoder_raised(english):
    def broken(frame):
        raise IndexError("index out of range")

    with pytest.raises(AssertionError, match="raised IndexError: index out of range on the frame 81 05"):
        check_decode(broken)


def test_decode_check_asks_for_three_values(english):
    with pytest.raises(AssertionError, match="return fin, opcode, payload"):
        check_decode(lambda frame: b"Hello")


@pytest.mark.parametrize(
    ("wrong", "says"),
    [
        (lambda key: base64.b64encode(hashlib.sha1(key.encode()).digest()).decode(), "append the GUID"),
        (lambda key: base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()), "add .decode()"),
        (lambda key: hashlib.sha1((key + GUID).encode()).hexdigest(), "SHA-1 in hex"),
        (
            lambda key: base64.b64encode(hashlib.sha1(base64.b64decode(key) + GUID.encode()).digest()).decode(),
            "base64-decoded the key",
        ),
        (lambda key: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "the live server answered"),
    ],
    ids=["no-guid", "bytes", "hex", "decoded-key", "rfc-only"],
)
def test_accept_key_check_fails_wrong_answers_and_names_the_slip(wrong, says, english):
    with pytest.raises(AssertionError, match=says):
        check_accept_key(wrong)


def test_plot_timeline_draws_two_labelled_lanes():
    timeline = [(0.0, "←", "tick 1"), (0.25, "→", "hi"), (0.251, "←", "Server: hi"), (0.3, "←", "tick 2")]
    figure = plot_timeline(timeline, lang="id")
    axes = figure.axes[0]
    assert [label.get_text() for label in axes.get_yticklabels()] == ["server → klien", "klien → server"]
    lane_of = {line.get_xdata()[0]: line.get_ydata()[0] for line in axes.lines}
    assert lane_of == {0.0: 0, 0.25: 1, 0.251: 0, 0.3: 0}  # the client's message on the upper lane
    assert sorted(text.get_text() for text in axes.texts) == ["Server: hi", "hi"]
