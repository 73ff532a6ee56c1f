"""The article's HTML client page, served by the same server and port as the WebSocket.

A WebSocket connection starts as an HTTP GET that asks to "upgrade". websockets hands every
request to ``process_request`` before the handshake; `chat_page` returns one that answers a plain
GET (no ``Upgrade: websocket``) with the article's page, and lets upgrades through. One server
then gives both, and the page needs nothing else:

    server = serve_in_background(chat_room, process_request=chat_page())
    page_url(server)      # "http://127.0.0.1:PORT/": a browser on this machine opens it directly
    proxied_url(server)   # "/proxy/PORT/" (or "/user/NAME/proxy/PORT/" on a hub): through Jupyter

The page builds its WebSocket URL from its own address, so it connects to ``ws://127.0.0.1:PORT/``
when opened directly and to ``wss://hub.example.org/user/NAME/proxy/PORT/`` through
jupyter-server-proxy, which is how a browser far from the kernel (Binder, a class hub) reaches a
server inside it.
"""

from __future__ import annotations

import asyncio
import html
import inspect
import json
import os
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from urllib.parse import urlsplit

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import InvalidStatus
from websockets.http11 import Request, Response

from . import loop
from .handlers import echo
from .i18n import add_messages, check_language, get_language, t
from .server import BackgroundServer, serve_in_background

ProcessRequest = Callable[[ServerConnection, Request], Awaitable[Response | None] | Response | None]

MESSAGES = {
    "page_failed": {
        "en": "the browser could not connect to {url}, or lost the connection. Is the server cell"
        " still running? Run it again, then reload this page.",
        "id": "browser tidak bisa terhubung ke {url}, atau koneksinya terputus. Apakah sel server"
        " masih berjalan? Jalankan lagi, lalu muat ulang halaman ini.",
    },
    "page_reload": {
        "en": "Reload the page to connect again.",
        "id": "Muat ulang halaman untuk terhubung lagi.",
    },
    "page_binary": {
        "en": "binary data, {count} bytes",
        "id": "data biner, {count} byte",
    },
    "page_not_found": {
        "en": "Not found: {path}. This server shows its chat page at / (the path ends with a slash).\n",
        "id": "Tidak ditemukan: {path}. Server ini menampilkan halaman obrolannya di / (path-nya diakhiri garis miring).\n",
    },
    "page_proxy_tls": {
        "en": "jupyter-server-proxy talks plain HTTP to the servers behind it, so it cannot reach"
        " {url}: serve without ssl= and let the proxy (the hub's https://) do the encryption.",
        "id": "jupyter-server-proxy berbicara HTTP biasa dengan server di belakangnya, jadi ia tidak bisa"
        " menjangkau {url}: jalankan server tanpa ssl= dan biarkan proxy (https:// milik hub) yang mengenkripsi.",
    },
    # The exercise: a health check beside the page.
    "health_not_tried": {
        "en": "Not tried yet: write with_health_check in the cell above, run it, then run this cell again.",
        "id": "Belum dicoba: tulis with_health_check di sel di atas, jalankan, lalu jalankan sel ini lagi.",
    },
    "health_not_callable": {
        "en": "{name!r} is not a function: write `def with_health_check(connection, request): ...`.",
        "id": "{name!r} bukan fungsi: tulis `def with_health_check(connection, request): ...`.",
    },
    "health_no_answer": {
        "en": "GET {path} got no answer: {error}.",
        "id": "GET {path} tidak mendapat jawaban: {error}.",
    },
    "health_status": {
        "en": "GET /health answered HTTP {status} with {body!r}; expected 200 and 'OK'."
        " When request.path == \"/health\", return connection.respond(200, \"OK\\n\").",
        "id": "GET /health dijawab HTTP {status} dengan {body!r}; seharusnya 200 dan 'OK'."
        " Jika request.path == \"/health\", kembalikan connection.respond(200, \"OK\\n\").",
    },
    "health_lost_page": {
        "en": "GET / answered HTTP {status} ({kind}), not the chat page. For every other path,"
        " hand the request on: return page(connection, request).",
        "id": "GET / dijawab HTTP {status} ({kind}), bukan halaman obrolan. Untuk path lain,"
        " teruskan permintaannya: return page(connection, request).",
    },
    "health_no_websocket": {
        "en": "A WebSocket client could not connect ({why}). A WebSocket handshake is a GET too:"
        " return None for it (page(connection, request) does), so the handshake goes ahead.",
        "id": "Klien WebSocket tidak bisa terhubung ({why}). Handshake WebSocket juga berupa GET:"
        " kembalikan None untuknya (page(connection, request) melakukannya), agar handshake berlanjut.",
    },
    "health_raised": {
        "en": "Your function raised {error}.",
        "id": "Fungsi Anda memunculkan {error}.",
    },
}
add_messages(MESSAGES)

# What the page's script shows; each is a template it fills in itself ({url}, {code}...).
_PAGE_TEXTS = {
    "message": ("message", {"text": "{text}"}),
    "connecting": ("connecting", {"url": "{url}"}),
    "connected": ("connected", {"url": "{url}"}),
    "closed": ("closed", {"code": "{code}", "reason": "{reason}"}),
    "error": ("error", {"error": "{error}"}),
    "notConnected": ("not_connected_kept", {"state": "{state}"}),
    "failed": ("page_failed", {"url": "{url}"}),
    "reload": ("page_reload", {}),
    "binary": ("page_binary", {"count": "{count}"}),
}

# The article's client page. What changed, and why: the WebSocket URL comes from the page's own
# address instead of 'ws://localhost:8080'; a status line shows the connection and its errors;
# Enter sends too; a message that cannot be sent stays in the box instead of vanishing.
PAGE = r"""<!DOCTYPE html>
<html lang="__LANG__">
<head>
    <meta charset="UTF-8">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <title>WebSocket Client</title>
    <style>
        body { font-family: sans-serif; margin: 1rem; }
        #status { color: #444; margin-bottom: 0.5rem; }
        #status.problem { color: #b00020; }
    </style>
</head>
<body>
    <h1>WebSocket Client</h1>
    <div id="status" role="status"></div>
    <input id="messageInput" type="text" placeholder="__PLACEHOLDER__">
    <button id="sendButton">__SEND__</button>
    <div id="messages"></div>

    <script>
        const TEXT = __TEXT__;

        // The page's own address, with ws: for http: and wss: for https:. Opened directly it is
        // ws://127.0.0.1:PORT/; through jupyter-server-proxy the path /proxy/PORT/ is kept.
        const url = (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + location.pathname;

        const messageInput = document.getElementById("messageInput");
        const sendButton = document.getElementById("sendButton");
        const messagesDiv = document.getElementById("messages");
        const statusDiv = document.getElementById("status");

        // Fills {name} in one pass: a value that contains "{url}" or "$&" stays as it is.
        function fill(template, values) {
            return template.replace(/\{(\w+)\}/g, (whole, name) => name in values ? String(values[name]) : whole);
        }

        let connectionStatus = "";  // how the connection is, in short
        let advice = "";  // what to do about it, if anything
        function showStatus(text, problem) {
            statusDiv.textContent = [text, advice].filter(Boolean).join(" ");
            statusDiv.className = problem ? "problem" : "";
        }
        function setConnectionStatus(text, problem) {
            connectionStatus = text;
            showStatus(text, problem);
        }

        let socket = null;
        setConnectionStatus(fill(TEXT.connecting, {url}));
        try {
            socket = new WebSocket(url);
            socket.binaryType = "arraybuffer";
        } catch (error) {  // an address a WebSocket cannot use
            setConnectionStatus(fill(TEXT.error, {error: error.message}), true);
        }

        if (socket !== null) {
            socket.onopen = () => {
                console.log("Connected to WebSocket server");
                setConnectionStatus(fill(TEXT.connected, {url}));
            };

            socket.onmessage = (event) => {
                const text = typeof event.data === "string" ? event.data : fill(TEXT.binary, {count: event.data.byteLength});
                const message = document.createElement("div");
                message.textContent = fill(TEXT.message, {text});  // text, never HTML
                messagesDiv.appendChild(message);
            };

            socket.onerror = () => {  // browsers give no details; onclose follows with the code
                advice = fill(TEXT.error, {error: fill(TEXT.failed, {url})});
                showStatus("", true);
            };

            socket.onclose = (event) => {
                const reason = event.reason ? " (" + event.reason + ")" : "";
                advice = advice || TEXT.reload;
                setConnectionStatus(fill(TEXT.closed, {code: event.code, reason}) + ".", true);
            };
        }

        function send() {
            const message = messageInput.value;
            if (!message) {
                return;
            }
            if (socket === null || socket.readyState !== WebSocket.OPEN) {
                // The article's page would lose it; here it stays in the box.
                showStatus(fill(TEXT.notConnected, {state: connectionStatus.replace(/\.$/, "")}), true);
                return;
            }
            socket.send(message);
            messageInput.value = "";
        }

        sendButton.onclick = send;
        messageInput.addEventListener("keydown", (event) => {
            if (event.key === "Enter") {
                send();
            }
        });
    </script>
</body>
</html>
"""


def page_html(lang: str | None = None) -> str:
    """The article's client page in `lang` (default: the chosen language), as HTML text."""
    lang = check_language(lang) if lang is not None else get_language()
    texts = {name: t(key, lang, **values) for name, (key, values) in _PAGE_TEXTS.items()}
    # "</" would end the <script> element early; "<\\/" means the same inside a JS string.
    script_texts = json.dumps(texts, ensure_ascii=False).replace("</", "<\\/")
    return (
        PAGE.replace("__LANG__", lang)
        .replace("__PLACEHOLDER__", html.escape(t("placeholder", lang)))
        .replace("__SEND__", html.escape(t("send", lang)))
        .replace("__TEXT__", script_texts)
    )


def chat_page(lang: str | None = None) -> ProcessRequest:
    """A ``process_request`` for ``serve(...)`` that serves the article's page on the same port.

    A plain GET of a path that ends in "/" gets the page ("/", and "/proxy/absolute/PORT/" when a
    proxy keeps its prefix); any other path gets 404. A WebSocket handshake (``Upgrade:
    websocket``) gets None, so websockets goes on with it and the handler runs. `lang` defaults
    to the language chosen now.
    """
    lang = check_language(lang) if lang is not None else get_language()
    body = page_html(lang)

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        if is_websocket_upgrade(request):
            return None
        path = urlsplit(request.path).path
        if not path.endswith("/"):
            return connection.respond(HTTPStatus.NOT_FOUND, t("page_not_found", lang, path=path))
        response = connection.respond(HTTPStatus.OK, body)
        del response.headers["Content-Type"]  # respond() makes text/plain
        response.headers["Content-Type"] = "text/html; charset=utf-8"
        response.headers["Cache-Control"] = "no-store"  # the next server on this port may differ
        return response

    return process_request


def is_websocket_upgrade(request: Request) -> bool:
    """Whether `request` asks to become a WebSocket (rather than fetch a page)."""
    return any("websocket" in value.lower() for value in request.headers.get_all("Upgrade"))


def page_url(server: BackgroundServer) -> str:
    """The page's address for a browser on this machine: ``http://127.0.0.1:PORT/``."""
    return server.url.replace("ws", "http", 1) + "/"


def proxied_url(server: BackgroundServer, base_url: str | None = None) -> str:
    """The page's address through jupyter-server-proxy, on the Jupyter server the browser uses.

    A path without a host (``/proxy/PORT/``, or ``/user/NAME/proxy/PORT/`` on a hub), since
    only the browser knows the host name it reached Jupyter by. `base_url` defaults to
    `jupyter_base_url()`.
    """
    if server.url.startswith("wss:"):
        raise ValueError(t("page_proxy_tls", url=server.url))
    base = base_url if base_url is not None else jupyter_base_url()
    return "/" + f"{base.strip('/')}/proxy/{server.port}/".lstrip("/")


def jupyter_base_url() -> str:
    """The base URL of the Jupyter server in front of this kernel, ending with "/".

    First the server that started this kernel (its parent process), as jupyter_server lists
    its running servers; then JUPYTERHUB_SERVICE_PREFIX, which JupyterHub and Binder set for
    the user's server; then "/", the default of a server started with ``jupyter lab``.
    """
    for server in _running_jupyter_servers():
        if server.get("pid") == os.getppid() and server.get("base_url"):
            return "/" + (server["base_url"].strip("/") + "/").lstrip("/")
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "").strip("/")
    return f"/{prefix}/" if prefix else "/"


def _running_jupyter_servers() -> list[dict]:
    try:
        from jupyter_server.serverapp import list_running_servers

        return list(list_running_servers())
    except Exception:  # no jupyter_server, or an unreadable runtime folder: fall back
        return []


# The exercise of lesson 04: a health check served beside the page.

HTTP_TIMEOUT = 10.0  # only a failing check waits this long


def check_health_check(process_request: object) -> None:
    """Lesson 04: GET /health says OK, GET / is still the page, and WebSocket clients still connect."""
    if process_request is None:
        print(t("health_not_tried"))
        return
    if not callable(process_request):
        raise TypeError(t("health_not_callable", name=process_request))
    raised: list[BaseException] = []

    async def guarded(connection: ServerConnection, request: Request) -> Response | None:
        try:
            answer = process_request(connection, request)
            return await answer if inspect.isawaitable(answer) else answer
        except Exception as error:  # websockets answers 500; the learner needs to know why
            raised.append(error)
            raise

    server = serve_in_background(echo, process_request=guarded)
    try:
        problem = _health_problem(server)
    finally:
        server.stop(timeout=1)
    if problem:
        if raised:
            problem += " " + t("health_raised", error=f"{type(raised[-1]).__name__}: {raised[-1]}")
        raise AssertionError(problem)
    print(t("well_done"))


def _health_problem(server: BackgroundServer) -> str | None:
    """What is wrong with the server's HTTP side and its WebSocket side, or None."""
    status, kind, body = _get(page_url(server) + "health")
    if status is None:
        return t("health_no_answer", path="/health", error=body)
    if status != HTTPStatus.OK or body.strip() != "OK":
        return t("health_status", status=status, body=body[:80])
    status, kind, body = _get(page_url(server))
    if status is None:
        return t("health_no_answer", path="/", error=body)
    if status != HTTPStatus.OK or not kind.startswith("text/html") or 'id="sendButton"' not in body:
        return t("health_lost_page", status=status, kind=kind or "?")
    try:
        reply = loop.run(_echo_once(server.url), timeout=HTTP_TIMEOUT * 2)
    except InvalidStatus as error:
        return t("health_no_websocket", why=f"HTTP {error.response.status_code}")
    except Exception as error:
        return t("health_no_websocket", why=f"{type(error).__name__}: {error}")
    if reply != "Server: ping":
        return t("health_no_websocket", why=repr(reply))
    return None


def _get(url: str) -> tuple[int | None, str, str]:
    """(status, content type, body) of GET `url`; status None and the error when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode(errors="replace")
    except (OSError, ValueError) as error:
        return None, "", f"{type(error).__name__}: {error}"


async def _echo_once(url: str) -> str:
    async with connect(url, open_timeout=HTTP_TIMEOUT) as websocket:
        await websocket.send("ping")
        return await asyncio.wait_for(websocket.recv(), HTTP_TIMEOUT)
