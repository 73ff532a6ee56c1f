import struct


def decode(frame):
    # Byte 0: FIN (top bit) and the opcode (low 4 bits).
    # Byte 0: FIN (bit teratas) dan opcode (4 bit terbawah).
    fin = bool(frame[0] & 0x80)
    opcode = frame[0] & 0x0F
    # Byte 1: MASK (top bit) and the length in 7 bits; 126 and 127 mean "the length follows".
    # Byte 1: MASK (bit teratas) dan panjang 7 bit; 126 dan 127 berarti "panjangnya menyusul".
    masked = bool(frame[1] & 0x80)
    length = frame[1] & 0x7F
    offset = 2
    if length == 126:
        (length,) = struct.unpack("!H", frame[2:4])
        offset = 4
    elif length == 127:
        (length,) = struct.unpack("!Q", frame[2:10])
        offset = 10
    if masked:
        mask_key = frame[offset : offset + 4]
        offset += 4
    payload = frame[offset : offset + length]
    if masked:
        payload = bytes(b ^ mask_key[i % 4] for i, b in enumerate(payload))
    return fin, opcode, payload
