def frame_size(payload_length, masked):
    """Bytes on the wire for one WebSocket frame carrying `payload_length` bytes (RFC 6455, 5.2)."""
    # Byte 1: FIN + opcode. Byte 2: MASK bit + a 7-bit length (0-125, or 126 / 127 for longer).
    # Byte 1: FIN + opcode. Byte 2: bit MASK + panjang 7 bit (0-125, atau 126 / 127 untuk yang lebih panjang).
    header = 2
    if payload_length >= 65536:
        header += 8  # 127, then the length in 8 bytes / 127, lalu panjangnya dalam 8 byte
    elif payload_length >= 126:
        header += 2  # 126, then the length in 2 bytes / 126, lalu panjangnya dalam 2 byte
    if masked:
        header += 4  # a client masks every frame with a 4-byte key / klien me-mask setiap frame dengan kunci masking 4 byte
    return header + payload_length
