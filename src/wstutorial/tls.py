"""What went wrong with a wss:// connection, said in the learner's language with the fix.

Python's own message for an untrusted certificate is ``[SSL: CERTIFICATE_VERIFY_FAILED] certificate
verify failed: unable to get local issuer certificate (_ssl.c:1006)``: correct, and opaque to
someone meeting TLS for the first time. `explain_tls_error` keeps the precise part (OpenSSL's
reason) and adds what it means and what to do, which is never "switch verification off".
"""

from __future__ import annotations

import ssl

from websockets.exceptions import InvalidMessage

from .i18n import add_messages, t

# OpenSSL's X509_V_ERR_* codes that mean "nobody this client trusts vouches for that certificate".
UNTRUSTED = {18, 19, 20, 21}  # self-signed, self-signed in chain, unknown issuer (local, leaf)
EXPIRED = {9, 10}  # not yet valid, expired
HOSTNAME_MISMATCH = {62, 64}  # the host name, or the IP address, is not in the certificate

add_messages(
    {
        "tls_untrusted": {
            "en": "The client refused the server's certificate: no authority it trusts signed it"
            " ({detail}). That is TLS doing its job: anyone can make a certificate, so the client"
            " believes only those signed by an authority it trusts. Fix: give the client that"
            " authority (here ca.configure_trust(context)) and pass ssl=context to connect()"
            " (or ChatClient(url, ssl=context)). Never switch verification off.",
            "id": "Klien menolak sertifikat server: tidak ada otoritas yang dipercayainya yang"
            " menandatanganinya ({detail}). Itulah tugas TLS: siapa pun bisa membuat sertifikat, jadi"
            " klien hanya memercayai sertifikat yang ditandatangani otoritas yang ia percayai. Perbaikan:"
            " berikan otoritas itu kepada klien (di sini ca.configure_trust(context)) lalu berikan"
            " ssl=context ke connect() (atau ChatClient(url, ssl=context)). Jangan pernah mematikan"
            " verifikasi.",
        },
        "tls_expired": {
            "en": "The server's certificate is outside its validity dates ({detail}). Issue a new one;"
            " also check that this machine's clock is right.",
            "id": "Sertifikat server berada di luar masa berlakunya ({detail}). Terbitkan yang baru;"
            " periksa juga apakah jam di mesin ini sudah benar.",
        },
        "tls_hostname": {
            "en": "The server's certificate is for another name than the one in the URL ({detail})."
            " Connect with a name the certificate lists (issue_cert(\"127.0.0.1\", \"localhost\")"
            " lists both), or issue a certificate for this name.",
            "id": "Sertifikat server dibuat untuk nama lain, bukan nama di URL ({detail}). Hubungkan"
            " dengan nama yang tercantum di sertifikat (issue_cert(\"127.0.0.1\", \"localhost\")"
            " mencantumkan keduanya), atau terbitkan sertifikat untuk nama ini.",
        },
        "tls_unverified": {
            "en": "The server's certificate could not be verified ({detail}).",
            "id": "Sertifikat server tidak bisa diverifikasi ({detail}).",
        },
        "tls_not_tls_server": {
            "en": "The server does not speak TLS ({detail}): use a ws:// URL for it, or start the"
            " server with ssl=... to serve wss://.",
            "id": "Server tidak berbicara TLS ({detail}): pakai URL ws:// untuknya, atau jalankan"
            " server dengan ssl=... agar melayani wss://.",
        },
        "tls_server_wants_tls": {
            "en": "The answer was not HTTP: the server probably expects TLS. Use its wss:// URL"
            " (server.url) and pass ssl=context to connect() (or ChatClient(url, ssl=context)).",
            "id": "Jawabannya bukan HTTP: server kemungkinan mengharapkan TLS. Pakai URL wss://"
            " miliknya (server.url) dan berikan ssl=context ke connect() (atau ChatClient(url,"
            " ssl=context)).",
        },
        "tls_reset": {
            "en": "The server dropped the connection during the TLS handshake: it probably does not"
            " speak TLS. Use its ws:// URL (server.url), or start it with ssl=... to serve wss://.",
            "id": "Server memutus koneksi selama handshake TLS: kemungkinan server itu tidak berbicara"
            " TLS. Pakai URL ws:// miliknya (server.url), atau jalankan dengan ssl=... agar melayani wss://.",
        },
        "tls_other": {
            "en": "The TLS connection failed: {detail}",
            "id": "Koneksi TLS gagal: {detail}",
        },
    }
)


def explain_tls_error(error: BaseException, lang: str | None = None) -> str:
    """What `error`, raised by connect() when TLS is involved, means and what to do about it.

    Covers a certificate that is not trusted, expired or for another name; ``wss://`` to a server
    that speaks plain ``ws://`` (and the reverse); anything else is named as it is.
    """
    if isinstance(error, ssl.SSLCertVerificationError):
        detail = f"{error.reason}: {error.verify_message}"
        if error.verify_code in UNTRUSTED:
            return t("tls_untrusted", lang, detail=detail)
        if error.verify_code in EXPIRED:
            return t("tls_expired", lang, detail=detail)
        if error.verify_code in HOSTNAME_MISMATCH:
            return t("tls_hostname", lang, detail=detail)
        return t("tls_unverified", lang, detail=detail)
    if isinstance(error, ssl.SSLEOFError) or getattr(error, "reason", None) == "UNEXPECTED_EOF_WHILE_READING":
        return t("tls_reset", lang)  # the sync client's view of a reset
    if isinstance(error, ssl.SSLError):
        if error.reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"):
            return t("tls_not_tls_server", lang, detail=error.reason)
        return t("tls_other", lang, detail=error.reason or error)
    if isinstance(error, InvalidMessage):
        return t("tls_server_wants_tls", lang)
    if isinstance(error, ConnectionResetError):
        return t("tls_reset", lang)
    return t("tls_other", lang, detail=f"{type(error).__name__}: {error}")
