import base64
import hashlib

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455: the same for every server / sama untuk semua server


def accept(key):
    # The key as text, plus the GUID; SHA-1 gives 20 bytes; base64 makes them header text.
    # Key sebagai teks, ditambah GUID; SHA-1 menghasilkan 20 byte; base64 menjadikannya teks header.
    digest = hashlib.sha1((key + GUID).encode()).digest()
    return base64.b64encode(digest).decode()
