import hmac
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit


def one_per_user(connection, request):
    token = parse_qs(urlsplit(request.path).query).get("token", [""])[0]
    # Compare with every known token, in constant time: a dict lookup would leak timing hints.
    # Bandingkan dengan setiap token yang dikenal, dalam waktu konstan.
    user = None
    for known, name in USERS.items():
        if hmac.compare_digest(token.encode(), known.encode()):
            user = name
    if user is None:
        return connection.respond(HTTPStatus.UNAUTHORIZED, "Missing or unknown token.\n")
    # Connections that finished their handshake; each remembers its user (set below).
    # Koneksi yang sudah menyelesaikan handshake; masing-masing mengingat penggunanya (diatur di bawah).
    if any(getattr(other, "username", None) == user for other in connection.server.connections):
        return connection.respond(HTTPStatus.CONFLICT, f"{user} is already connected.\n")
    connection.username = user
    return None
