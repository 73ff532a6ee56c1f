"""Every sentence the helper shows a learner, in English and Indonesian.

The lessons pick a language once (``wstutorial.set_language("id")``); widgets and error messages
then speak it. A widget can also be given its own ``lang=``. Indonesian follows the article's own
wording where it has one ("Ketik pesan...", "Kirim", "Pesan: ...").
"""

from __future__ import annotations

import os

LANGUAGES = ("en", "id")

MESSAGES: dict[str, dict[str, str]] = {
    # The article's client page.
    "placeholder": {"en": "Type your message...", "id": "Ketik pesan..."},
    "send": {"en": "Send", "id": "Kirim"},
    "message": {"en": "Message: {text}", "id": "Pesan: {text}"},
    "earlier_messages": {
        "en": "… {count} earlier messages (all are in client.messages)",
        "id": "… {count} pesan sebelumnya (semuanya ada di client.messages)",
    },
    "no_close_frame": {"en": "no close frame", "id": "tanpa frame penutup"},
    "chat_repr": {
        "en": "Chat widget for {url}: run this cell in JupyterLab to use it",
        "id": "Widget obrolan untuk {url}: jalankan sel ini di JupyterLab untuk memakainya",
    },
    # Connection status, as the widget shows it.
    "connecting": {"en": "Connecting to {url}…", "id": "Menghubungkan ke {url}…"},
    "connected": {
        "en": "Connected to WebSocket server {url}",
        "id": "Terhubung ke server WebSocket {url}",
    },
    "closed": {
        "en": "Connection closed: code {code}{reason}",
        "id": "Koneksi ditutup: kode {code}{reason}",
    },
    "error": {"en": "Error: {error}", "id": "Kesalahan: {error}"},
    "closed_while_connecting": {
        "en": "Closed before the connection opened",
        "id": "Ditutup sebelum koneksi terbuka",
    },
    "not_connected_kept": {
        "en": "Not connected ({state}): your message was not sent and is still in the box.",
        "id": "Tidak terhubung ({state}): pesan Anda belum terkirim dan masih ada di kotak.",
    },
    # Why a connection failed, and what to do.
    "refused": {
        "en": "nothing is listening at {url}. Is the server running, and is the port right?"
        " Start one with serve_in_background(...) and use its .url.",
        "id": "tidak ada yang mendengarkan di {url}. Apakah server sudah berjalan dan portnya benar?"
        " Jalankan dengan serve_in_background(...) lalu pakai .url miliknya.",
    },
    "bad_url": {
        "en": "{url!r} is not a WebSocket URL ({detail}). It should look like ws://127.0.0.1:8765"
        " or wss://example.com/chat; use server.url.",
        "id": "{url!r} bukan URL WebSocket ({detail}). Bentuknya seperti ws://127.0.0.1:8765"
        " atau wss://example.com/chat; pakai server.url.",
    },
    "rejected": {
        "en": "the server at {url} refused the WebSocket handshake with HTTP {status}."
        " Check the path, the token or the Origin it expects.",
        "id": "server di {url} menolak handshake WebSocket dengan HTTP {status}."
        " Periksa path, token, atau Origin yang diharapkannya.",
    },
    "open_timeout": {
        "en": "no answer from {url} within {timeout} s. Is the host right and the server running?",
        "id": "tidak ada jawaban dari {url} dalam {timeout} detik. Apakah host benar dan server berjalan?",
    },
    "send_failed": {
        "en": "Not sent: {text}. {why}",
        "id": "Tidak terkirim: {text}. {why}",
    },
    "close_timeout": {
        "en": "the connection was still open after {timeout} s (status: {status}).",
        "id": "koneksi masih terbuka setelah {timeout} detik (status: {status}).",
    },
    "unexpected_error": {
        "en": "unexpected problem: {error}",
        "id": "masalah tak terduga: {error}",
    },
    "wait_timeout": {
        "en": "only {got} of {want} messages arrived within {timeout} s (status: {status}).",
        "id": "baru {got} dari {want} pesan yang tiba dalam {timeout} detik (status: {status}).",
    },
    # Server errors and log entries.
    "port_in_use": {
        "en": "Port {port} on {host} is already in use{owner}. Leave port=0 (the default) to get"
        " a free port, or choose another one.",
        "id": "Port {port} di {host} sudah dipakai{owner}. Biarkan port=0 (bawaan) agar mendapat"
        " port yang bebas, atau pilih port lain.",
    },
    "port_owner": {
        "en": " by your own server {url} (call its .stop() first)",
        "id": " oleh server Anda sendiri {url} (panggil .stop() miliknya dulu)",
    },
    "replaced": {
        "en": "Stopped the earlier {name} server at {url} and started this one",
        "id": "Server {name} sebelumnya di {url} dihentikan, lalu yang ini dijalankan",
    },
    "handler_error": {
        "en": "Error in handler: {error} (this client was closed with code 1011; others are still served)",
        "id": "Kesalahan di handler: {error} (klien ini ditutup dengan kode 1011; klien lain tetap dilayani)",
    },
    "connection_lost": {
        "en": "Connection lost: code {code}{reason}",
        "id": "Koneksi terputus: kode {code}{reason}",
    },
    "server_note": {"en": "websockets: {text}", "id": "websockets: {text}"},
    "background_error": {
        "en": "Error in a background task: {text}",
        "id": "Kesalahan di tugas latar belakang: {text}",
    },
    "handler_not_async": {
        "en": "the handler must be an async function: `async def {name}(websocket): ...`"
        " (you wrote `def` without `async`, or passed something that is not a function).",
        "id": "handler harus berupa fungsi async: `async def {name}(websocket): ...`"
        " (Anda menulis `def` tanpa `async`, atau memberikan sesuatu yang bukan fungsi).",
    },
    "log_outside_handler": {
        "en": "log() records events of a handler started with serve_in_background(); outside one, use print().",
        "id": "log() mencatat kejadian dari handler yang dijalankan dengan serve_in_background(); di luar itu, pakai print().",
    },
    "loop_blocked": {
        "en": "the background event loop is stuck: a handler is blocking it (time.sleep(), an endless"
        " loop, or blocking I/O). In a handler, wait with `await asyncio.sleep(...)`. Restart the kernel"
        " (Kernel → Restart Kernel) to recover.",
        "id": "event loop latar belakang macet: sebuah handler memblokirnya (time.sleep(), perulangan tanpa"
        " akhir, atau I/O yang memblokir). Di dalam handler, tunggulah dengan `await asyncio.sleep(...)`."
        " Mulai ulang kernel (Kernel → Restart Kernel) untuk memulihkannya.",
    },
    "loop_timeout": {
        "en": "the background task did not finish within {timeout} s.",
        "id": "tugas latar belakang tidak selesai dalam {timeout} detik.",
    },
    "loop_reentry": {
        "en": "this helper blocks until the background loop answers, so it cannot be called from a"
        " handler (which runs on that loop): await the websockets call directly instead.",
        "id": "fungsi bantu ini menunggu sampai loop latar belakang menjawab, jadi tidak bisa dipanggil dari"
        " handler (yang berjalan di loop itu): panggil fungsi websockets secara langsung dengan await.",
    },
    "stop_forced": {
        "en": "A handler did not return within {timeout} s after the server closed; it was cancelled",
        "id": "Sebuah handler tidak selesai dalam {timeout} detik setelah server ditutup; handler itu dibatalkan",
    },
    # The install self-check.
    "setup_ok": {
        "en": "✓ Ready: Python, websockets, ipywidgets and the kernel are all recent enough.",
        "id": "✓ Siap: Python, websockets, ipywidgets, dan kernel sudah cukup baru.",
    },
    "setup_broken": {
        "en": "This environment cannot run the lessons yet:",
        "id": "Lingkungan ini belum bisa menjalankan pelajaran:",
    },
    "need_python": {
        "en": "- Python {version} is too old: the lessons need 3.11 or newer.",
        "id": "- Python {version} terlalu lama: pelajaran ini perlu 3.11 atau lebih baru.",
    },
    "need_package": {
        "en": "- {package} {installed} is too old or missing: run  pip install '{package}>={minimum}'"
        "  and restart the kernel.",
        "id": "- {package} {installed} terlalu lama atau tidak ada: jalankan  pip install '{package}>={minimum}'"
        "  lalu mulai ulang kernel.",
    },
    "nest_asyncio": {
        "en": "- nest_asyncio has patched asyncio: it drops queued cells with ipykernel 7."
        " Remove nest_asyncio.apply() and restart the kernel.",
        "id": "- nest_asyncio telah menambal asyncio: dengan ipykernel 7 ia membuang sel yang antre."
        " Hapus nest_asyncio.apply() lalu mulai ulang kernel.",
    },
    # Exercises.
    "not_tried": {
        "en": "Not tried yet: write your handler in the cell above, run it, then run this cell again.",
        "id": "Belum dicoba: tulis handler Anda di sel di atas, jalankan, lalu jalankan sel ini lagi.",
    },
    "well_done": {"en": "✓ Well done: that is right.", "id": "✓ Bagus: itu benar."},
    "greeter_silent": {
        "en": "The server sent nothing when the client connected. Send a greeting with"
        " `await websocket.send(...)` before the `async for` loop.",
        "id": "Server tidak mengirim apa pun saat klien terhubung. Kirim sapaan dengan"
        " `await websocket.send(...)` sebelum perulangan `async for`.",
    },
    "greeter_closed": {
        "en": "The connection closed before any greeting ({why}). Did the handler return, or raise?",
        "id": "Koneksi tertutup sebelum ada sapaan ({why}). Apakah handler selesai, atau memunculkan error?",
    },
    "greeter_stopped": {
        "en": "After the greeting, the connection closed when the client sent {sent!r} ({why})."
        " Keep answering with an `async for message in websocket:` loop.",
        "id": "Setelah sapaan, koneksi tertutup saat klien mengirim {sent!r} ({why})."
        " Terus jawab dengan perulangan `async for message in websocket:`.",
    },
    "greeter_no_echo": {
        "en": "After the greeting the client sent {sent!r} and got no answer within 2 s."
        " Answer every message with `await websocket.send(f\"Server: {{message}}\")`.",
        "id": "Setelah sapaan, klien mengirim {sent!r} dan tidak mendapat jawaban dalam 2 detik."
        " Jawab setiap pesan dengan `await websocket.send(f\"Server: {{message}}\")`.",
    },
    "greeter_raised": {
        "en": "Your handler raised {error}.",
        "id": "Handler Anda memunculkan {error}.",
    },
    "greeter_empty": {
        "en": "The greeting is empty: say something!",
        "id": "Sapaannya kosong: katakan sesuatu!",
    },
    "greeter_echo": {
        "en": "After the greeting the server should echo like the article's: sent {sent!r},"
        " expected 'Server: {sent}', got {got!r}.",
        "id": "Setelah menyapa, server harus membalas seperti di artikel: mengirim {sent!r},"
        " seharusnya 'Server: {sent}', tetapi mendapat {got!r}.",
    },
}

_language = os.environ.get("WSTUTORIAL_LANG", "en")
if _language not in LANGUAGES:
    _language = "en"


def set_language(lang: str) -> None:
    """Choose the language of widgets and error messages: "en" or "id"."""
    global _language
    _language = check_language(lang)


def get_language() -> str:
    return _language


def check_language(lang: str) -> str:
    """`lang` as one of LANGUAGES ("ID" is "id"); a clear error in both languages otherwise."""
    if str(lang).lower() not in LANGUAGES:
        raise ValueError(f"lang must be 'en' or 'id', not {lang!r} / lang harus 'en' atau 'id', bukan {lang!r}")
    return str(lang).lower()


def add_messages(messages: dict[str, dict[str, str]]) -> None:
    """Add a lesson module's own sentences; each needs both languages and a key no one else uses.

    Modules that belong to one lesson (frames, rpc, security ...) keep their sentences beside their
    logic and register them at import, so the shared table above stays the foundation's.
    """
    for key, texts in messages.items():
        if key in MESSAGES:
            raise ValueError(f"message key {key!r} is already defined")
        if set(texts) != set(LANGUAGES):
            raise ValueError(f"message {key!r} needs exactly {LANGUAGES}, has {sorted(texts)}")
    MESSAGES.update(messages)


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The message `key` in `lang` (default: the chosen language), filled with `values`."""
    return MESSAGES[key][lang or _language].format(**values)
