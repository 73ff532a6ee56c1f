"""Lesson 07's checks: an audit of a secured server, and the self-check of its exercise.

`audit` attacks a running server the way the lesson did, one probe per defence (TLS, Origin,
token, size, rate, connection cap, malformed frame), then checks that it still serves; it prints
one line per check and raises AssertionError naming every defence that did not hold.
`check_one_per_user` tries the learner's ``process_request`` against a real server.
"""

from __future__ import annotations

import asyncio
import inspect
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from . import loop
from .i18n import add_messages, t
from .rawframes import send_raw_frame
from .server import BackgroundServer, serve_in_background

PROBE_TIMEOUT = 3.0
# A flooding client whose messages fill the server's receive buffer (max_queue, 16 by default) is
# closed only after websockets' close_timeout (10 s): the server stops reading it, so the closing
# handshake cannot complete (python-websockets/websockets#1555). Wait that long, and flood with
# fewer than 16 messages, so the probe is quick whenever it can be.
CLOSE_WAIT = 12.0
AUDIT_TIMEOUT = 30.0
FOREIGN_ORIGIN = "http://evil.example"
ANSWERED = "answered"
UNMASKED_TEXT_FRAME = bytes([0x81, 0x02]) + b"hi"  # FIN + text, 2 bytes, mask bit missing

add_messages(
    {
        "audit_tls_trusted": {
            "en": "TLS: a client that trusts the local authority connects over wss:// and is answered",
            "id": "TLS: klien yang memercayai otoritas lokal terhubung lewat wss:// dan dijawab",
        },
        "audit_tls_untrusted": {
            "en": "TLS: a client that does not trust it refuses the certificate",
            "id": "TLS: klien yang tidak memercayainya menolak sertifikat",
        },
        "audit_origin": {
            "en": "Origin: a page from {origin} is refused with HTTP 403, even with the right token",
            "id": "Origin: halaman dari {origin} ditolak dengan HTTP 403, meski tokennya benar",
        },
        "audit_token_missing": {
            "en": "Token: no token is refused with HTTP 401",
            "id": "Token: tanpa token ditolak dengan HTTP 401",
        },
        "audit_token_wrong": {
            "en": "Token: a wrong token is refused with HTTP 401",
            "id": "Token: token yang salah ditolak dengan HTTP 401",
        },
        "audit_size": {
            "en": "Size: a message of {size} bytes (over max_size) is closed with 1009",
            "id": "Ukuran: pesan {size} byte (melebihi max_size) ditutup dengan 1009",
        },
        "audit_rate": {
            "en": "Rate: {count} messages at once are closed with 1008 ({reason})",
            "id": "Laju: {count} pesan sekaligus ditutup dengan 1008 ({reason})",
        },
        "audit_rate_short": {
            "en": "Rate: {count} messages at once are closed with 1008",
            "id": "Laju: {count} pesan sekaligus ditutup dengan 1008",
        },
        "audit_cap": {
            "en": "Connections: connection number {number} is refused with HTTP 503",
            "id": "Koneksi: koneksi ke-{number} ditolak dengan HTTP 503",
        },
        "audit_malformed": {
            "en": "Malformed frame: an unmasked frame is closed with 1002",
            "id": "Frame rusak: frame tanpa mask ditutup dengan 1002",
        },
        "audit_still_serving": {
            "en": "After all that, the server still answers a well-behaved client",
            "id": "Setelah semua itu, server tetap menjawab klien yang berperilaku baik",
        },
        "audit_got": {"en": "got {got}", "id": "hasilnya {got}"},
        "audit_failed": {
            "en": "{count} check(s) failed; the lines marked ✗ say which and what happened.",
            "id": "{count} pemeriksaan gagal; baris bertanda ✗ menyebut yang mana dan apa yang terjadi.",
        },
        "audit_busy": {
            "en": "{count} connection(s) are open already: close them (client.close()) so the cap can be measured",
            "id": "Sudah ada {count} koneksi terbuka: tutup dulu (client.close()) agar batasnya bisa diukur",
        },
        "audit_connected": {"en": "connected", "id": "terhubung"},
        "audit_no_close": {
            "en": "no close within {timeout} s, after {count} answer(s)",
            "id": "tidak ditutup dalam {timeout} detik, setelah {count} jawaban",
        },
        # The exercise.
        "per_user_not_tried": {
            "en": "Not tried yet: write one_per_user in the cell above, run it, then run this cell again.",
            "id": "Belum dicoba: tulis one_per_user di sel di atas, jalankan, lalu jalankan sel ini lagi.",
        },
        "per_user_expected": {
            "en": "{case}: expected {want}, got {got}.",
            "id": "{case}: seharusnya {want}, hasilnya {got}.",
        },
        "per_user_case_none": {"en": "No token", "id": "Tanpa token"},
        "per_user_case_unknown": {"en": "An unknown token", "id": "Token yang tidak dikenal"},
        "per_user_case_first": {"en": "{user}'s first connection", "id": "Koneksi pertama {user}"},
        "per_user_case_second": {
            "en": "{user}'s second connection while the first is open",
            "id": "Koneksi kedua {user} selagi yang pertama masih terbuka",
        },
        "per_user_case_after": {
            "en": "{user} again after closing the first connection",
            "id": "{user} lagi setelah koneksi pertama ditutup",
        },
        "per_user_raised": {
            "en": "Your function raised {error} (the client saw HTTP 500).",
            "id": "Fungsi Anda memunculkan {error} (klien melihat HTTP 500).",
        },
        "http_status": {"en": "HTTP {status}", "id": "HTTP {status}"},
        "connected_101": {"en": "a connection (HTTP 101)", "id": "sebuah koneksi (HTTP 101)"},
    }
)


@dataclass
class Check:
    passed: bool
    text: str

    def __str__(self) -> str:
        return f"{'✓' if self.passed else '✗'} {self.text}"


def audit(
    server: BackgroundServer,
    *,
    trust: ssl.SSLContext,
    token: str,
    origin: str,
    max_size: int,
    rate: int,
    max_connections: int,
) -> list[Check]:
    """Probe `server` (a wss:// server behind a token, an Origin allow-list and the lesson's limits).

    `trust` is a client context that trusts the server's authority; `token` and `origin` are what
    a legitimate client sends. Prints one ✓/✗ line per check; raises AssertionError if any failed.
    """
    if server.connections:
        raise RuntimeError(t("audit_busy", count=len(server.connections)))
    url = f"{server.url}/?token={token}"
    checks = loop.run(
        _audit(server, url, trust, token, origin, max_size, rate, max_connections), timeout=AUDIT_TIMEOUT
    )
    raw = send_raw_frame(url, UNMASKED_TEXT_FRAME, ssl=trust, origin=origin)
    checks.append(Check(raw.close_code == 1002, t("audit_malformed") + _got(raw.close_code == 1002, raw)))
    got = loop.run(_outcome(url, echo=True, ssl=trust, origin=origin), timeout=AUDIT_TIMEOUT)
    checks.append(Check(got == ANSWERED, t("audit_still_serving") + _got(got == ANSWERED, got)))
    for check in checks:
        print(check)
    failed = [check for check in checks if not check.passed]
    if failed:
        raise AssertionError("\n".join([t("audit_failed", count=len(failed)), *map(str, failed)]))
    return checks


async def _audit(server, url, trust, token, origin, max_size, rate, max_connections) -> list[Check]:
    checks = []

    def record(passed: bool, text: str, got: object) -> None:
        checks.append(Check(passed, text + _got(passed, got)))

    got = await _outcome(url, echo=True, ssl=trust, origin=origin)
    record(got == ANSWERED, t("audit_tls_trusted"), got)
    got = await _outcome(url, ssl=ssl.create_default_context(), origin=origin)
    record(got == "CERTIFICATE_VERIFY_FAILED", t("audit_tls_untrusted"), got)
    got = await _outcome(url, ssl=trust, origin=FOREIGN_ORIGIN)
    record(got == 403, t("audit_origin", origin=FOREIGN_ORIGIN), got)
    got = await _outcome(server.url, ssl=trust, origin=origin)
    record(got == 401, t("audit_token_missing"), got)
    got = await _outcome(f"{server.url}/?token={token}x", ssl=trust, origin=origin)
    record(got == 401, t("audit_token_wrong"), got)

    got = await _close_after(url, trust, origin, ["x" * (max_size + 1)])
    record(got[0] == 1009, t("audit_size", size=max_size + 1), got[0])
    flood = [f"message {number}" for number in range(rate + 10)]
    code, reason = await _close_after(url, trust, origin, flood, wait=CLOSE_WAIT)
    text = t("audit_rate", count=len(flood), reason=reason) if reason else t("audit_rate_short", count=len(flood))
    record(code == 1008, text, code)

    opened: list[ClientConnection] = []
    try:
        for _ in range(max_connections):
            opened.append(await connect(url, ssl=trust, origin=origin, open_timeout=PROBE_TIMEOUT))
        got = await _outcome(url, ssl=trust, origin=origin)
    except InvalidStatus as refused:  # refused before the cap: that is a failure too
        got = refused.response.status_code
    finally:
        for connection in opened:
            await connection.close()
    record(got == 503, t("audit_cap", number=max_connections + 1), got)
    return checks


def _got(passed: bool, got: object) -> str:
    return "" if passed else f": {t('audit_got', got=got)}"


async def _outcome(url: str, *, echo: bool = False, **options) -> object:
    """How a connection attempt ends: "connected" (or "answered" with `echo`: a message came back),
    the HTTP status of a refusal, or the TLS error's reason."""
    try:
        async with connect(url, open_timeout=PROBE_TIMEOUT, **options) as websocket:
            if not echo:
                return t("audit_connected")
            await websocket.send("ping")
            await asyncio.wait_for(websocket.recv(), PROBE_TIMEOUT)
            return ANSWERED
    except InvalidStatus as refused:
        return refused.response.status_code
    except ssl.SSLError as error:
        return error.reason
    except (OSError, TimeoutError, ConnectionClosed) as error:
        return f"{type(error).__name__}: {error}"


async def _close_after(url: str, trust, origin, messages: list[str], wait: float = PROBE_TIMEOUT) -> tuple[object, str]:
    """Send `messages` at once, read until the server closes (`wait` s at most); its close code and reason."""
    try:
        async with connect(url, ssl=trust, origin=origin, open_timeout=PROBE_TIMEOUT,
                           max_size=None) as websocket:
            answers = 0
            try:
                for message in messages:
                    await websocket.send(message)
                async with asyncio.timeout(wait):
                    async for _ in websocket:
                        answers += 1
            except ConnectionClosed:
                pass
            except TimeoutError:
                return t("audit_no_close", timeout=wait, count=answers), ""
            return websocket.close_code, websocket.close_reason or ""
    except InvalidStatus as refused:
        return t("http_status", status=refused.response.status_code), ""


# The exercise: one connection per user.

Guard = Callable[[ServerConnection, object], object]


def check_one_per_user(one_per_user: Guard | None, users: dict[str, str]) -> None:
    """Lesson 07's exercise: 401 for a missing or unknown token, 409 for a user already connected."""
    if one_per_user is None:
        print(t("per_user_not_tried"))
        return
    raised: list[BaseException] = []

    async def guard(connection: ServerConnection, request: object) -> object:
        try:
            answer = one_per_user(connection, request)
            return await answer if inspect.isawaitable(answer) else answer
        except Exception as error:
            raised.append(error)
            raise

    async def handler(websocket: ServerConnection) -> None:
        async for message in websocket:
            await websocket.send(f"Server: {message}")

    server = serve_in_background(handler, process_request=guard)
    try:
        problem = loop.run(_try_per_user(server.url, users), timeout=AUDIT_TIMEOUT)
    finally:
        server.stop(timeout=1)
    if raised:
        problem = t("per_user_raised", error=f"{type(raised[0]).__name__}: {raised[0]}")
    if problem:
        raise AssertionError(problem)
    print(t("well_done"))


async def _try_per_user(url: str, users: dict[str, str]) -> str | None:
    (first_token, first_user), (second_token, second_user) = list(users.items())[:2]

    async def attempt(query: str) -> tuple[object, ClientConnection | None]:
        try:
            websocket = await connect(f"{url}/{query}", open_timeout=PROBE_TIMEOUT)
        except InvalidStatus as refused:
            return refused.response.status_code, None
        return 101, websocket

    def shown(status: object) -> str:
        return t("connected_101") if status == 101 else t("http_status", status=status)

    def wrong(case: str, want: int, got: object) -> str:
        return t("per_user_expected", case=case, want=shown(want), got=shown(got))

    open_: list[ClientConnection] = []
    try:
        steps = [
            ("", 401, t("per_user_case_none")),
            ("?token=nobody", 401, t("per_user_case_unknown")),
            (f"?token={first_token}", 101, t("per_user_case_first", user=first_user)),
            (f"?token={first_token}", 409, t("per_user_case_second", user=first_user)),
            (f"?token={second_token}", 101, t("per_user_case_first", user=second_user)),
        ]
        for query, want, case in steps:
            status, websocket = await attempt(query)
            if websocket is not None:
                open_.append(websocket)
            if status != want:
                return wrong(case, want, status)
        await open_[0].close()  # the first user leaves: they may come back
        status, websocket = await attempt(f"?token={first_token}")
        if websocket is not None:
            open_.append(websocket)
        if status != 101:
            return wrong(t("per_user_case_after", user=first_user), 101, status)
    finally:
        for websocket in open_:
            await websocket.close()
    return None
