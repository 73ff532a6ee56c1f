"""JSON-RPC 2.0 over WebSocket: a dispatcher for the server and a client with many calls in flight.

Lesson 06 ("Call methods with JSON-RPC 2.0") reads this module: it is small on purpose, and complete
(every example in section 7 of https://www.jsonrpc.org/specification gets the answer shown there;
tests/test_rpc.py sends each one over a real WebSocket). The dispatcher does no I/O: text in, text
(or None: nothing to send) out, so the handler a lesson cell shows stays four lines long:

    rpc = Dispatcher()

    @rpc.method
    def subtract(minuend, subtrahend):
        return minuend - subtrahend

    async def handler(websocket):
        async for message in websocket:
            reply = await rpc.handle(message, context=websocket)
            if reply is not None:
                await websocket.send(reply)

The client matches each reply to its call by ``id``, so a hundred calls can share one connection:

    client = RpcClient(await connect(server.url))
    await client.call("subtract", 42, 23)                  # 19
    await asyncio.gather(*(client.call("sum", n, 1) for n in range(100)))

Why not a library: the maintained-looking ones answer some of section 7 differently (jsonrpcserver
5.0.9 rejects a whole batch for one bad member and answers ``[1]`` with an object, not an array;
ajsonrpc 1.2.0 fails on a method that returns None), neither has had a release since 2022, and the
lesson is about the dispatch rules themselves, which fit on one screen.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import reprlib
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from . import reruns
from .closes import close_values
from .i18n import add_messages, t
from .server import log

# The error codes of section 5.1, with the messages the specification's examples use.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
ERROR_MESSAGES = {
    PARSE_ERROR: "Parse error",
    INVALID_REQUEST: "Invalid Request",
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params",
    INTERNAL_ERROR: "Internal error",
}
CALL_TIMEOUT = 5.0

_closing: set[asyncio.Task[None]] = set()  # clients closing because their cell ran again


class RpcError(Exception):
    """A JSON-RPC error object: a method may raise it to answer with its own code; the client raises it."""

    def __init__(self, code: int, message: str | None = None, data: Any = None) -> None:
        self.code = code
        self.message = message if message is not None else ERROR_MESSAGES.get(code, "Server error")
        self.data = data
        super().__init__(code, self.message, data)

    def __str__(self) -> str:
        data = f" ({self.data})" if self.data is not None else ""
        return t("rpc_error", code=self.code, message=self.message, data=data)

    def __repr__(self) -> str:
        data = f", data={self.data!r}" if self.data is not None else ""
        return f"{type(self).__name__}(code={self.code}, message={self.message!r}{data})"

    def to_json(self) -> dict[str, Any]:
        error = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class InvalidParams(RpcError):
    """Raise it from a method whose params have the right shape but wrong values: the caller gets -32602."""

    def __init__(self, data: Any = None) -> None:
        super().__init__(INVALID_PARAMS, data=data)


# The server side.


class Dispatcher:
    """Methods by name, and `handle`: one WebSocket message in, the reply to send (or None) out."""

    def __init__(self) -> None:
        self.methods: dict[str, Callable[..., Any]] = {}
        self.wants_context: set[str] = set()
        self.errors: list[BaseException] = []  # what methods raised, tracebacks included
        self.log: list[str] = []  # what handle() noted outside a server (inside one: server.log)

    def method(self, function: Callable[..., Any] | None = None, *, name: str | None = None,
               context: bool = False) -> Any:
        """Register a function as a JSON-RPC method: ``@rpc.method``, or ``@rpc.method(name="x")``.

        With ``context=True`` the function gets what the handler passed to `handle` (the connection)
        as its first argument, before the caller's params: that is how a method pushes notifications.
        """
        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            if not callable(function):
                raise TypeError(t("rpc_not_a_function", what=function))
            method_name = name or function.__name__
            self.methods[method_name] = function
            if context:
                self.wants_context.add(method_name)
            else:
                self.wants_context.discard(method_name)
            return function

        return register(function) if function is not None else register

    async def handle(self, text: str | bytes, context: Any = None) -> str | None:
        """The JSON text to send back for the message `text`, or None when nothing is to be sent."""
        try:
            payload = json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested too deep to parse
            return self._refuse(PARSE_ERROR, t("rpc_not_json", text=reprlib.repr(text)))
        if isinstance(payload, list):
            if not payload:
                return self._refuse(INVALID_REQUEST, t("rpc_empty_batch"))
            # A batch's calls run concurrently; the specification lets the replies come in any order.
            replies = await asyncio.gather(*(self._answer(request, context) for request in payload))
            replies = [reply for reply in replies if reply is not None]
            return f"[{', '.join(replies)}]" if replies else None
        return await self._answer(payload, context)

    async def _answer(self, request: Any, context: Any) -> str | None:
        """The reply to one Request object, as JSON text; None for a notification."""
        problem = _invalid_request(request)
        if problem:
            return self._refuse(INVALID_REQUEST, problem, _usable_id(request))
        name, params = request["method"], request.get("params", [])
        try:
            result = await self._call(name, params, context)
            if "id" in request:
                return self._result_reply(name, request["id"], result)
        except RpcError as error:
            if "id" in request:
                return _error_reply(request["id"], error)
            self._note(t("rpc_silent", method=name, why=f"{error.code} {error.message}"))
        return None  # a notification: the client asked for no reply, not even about an error

    async def _call(self, name: str, params: list[Any] | dict[str, Any], context: Any) -> Any:
        """Run the method `name` with `params`; every failure becomes an RpcError with its code."""
        function = self.methods.get(name)
        if function is None:
            raise RpcError(METHOD_NOT_FOUND)
        args = [context] if name in self.wants_context else []
        args, kwargs = (args + params, {}) if isinstance(params, list) else (args, params)
        signature = inspect.signature(function)
        try:
            signature.bind(*args, **kwargs)  # do the params fit the function? Checked before it runs
        except TypeError:
            shown = list(signature.parameters.values())[1 if name in self.wants_context else 0:]
            expected = f"{name}({', '.join(str(p) for p in shown)})"
            raise InvalidParams(t("rpc_expected_params", signature=expected)) from None
        try:
            result = function(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except RpcError:
            raise
        except Exception as error:
            # The caller learns that it failed, not how: a traceback can reveal code and data.
            self.errors.append(error)
            self._note(t("rpc_method_failed", method=name, error=f"{type(error).__name__}: {error}"))
            raise RpcError(INTERNAL_ERROR) from None
        return result

    def _result_reply(self, name: str, request_id: Any, result: Any) -> str:
        try:
            return json.dumps({"jsonrpc": "2.0", "result": result, "id": request_id}, allow_nan=False)
        except (TypeError, ValueError):  # no JSON value: a set, an object, NaN...
            self._note(t("rpc_bad_result", method=name, result=reprlib.repr(result)))
            raise RpcError(INTERNAL_ERROR) from None

    def _refuse(self, code: int, why: str, request_id: Any = None) -> str:
        """The error reply for a message refused with `code`; the log says why, the reply only what."""
        self._note(t("rpc_rejected", code=code, message=ERROR_MESSAGES[code], why=why))
        return _error_reply(request_id, RpcError(code))

    def _note(self, text: str) -> None:
        try:
            log(text)  # inside a handler: the server's log, where a cell shows it
        except RuntimeError:
            self.log.append(text)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # Python's json reads NaN and Infinity; JSON has neither


def _invalid_request(request: Any) -> str | None:
    """Why `request` is not a valid Request object (section 4), or None if it is one."""
    shown = reprlib.repr(request)
    if not isinstance(request, dict):
        return t("rpc_not_object", text=shown)
    if request.get("jsonrpc") != "2.0":
        return t("rpc_bad_version", text=shown)
    if not isinstance(request.get("method"), str):
        return t("rpc_bad_method", text=shown)
    if not isinstance(request.get("params", []), list | dict):
        return t("rpc_bad_params", text=shown)
    if _usable_id(request) != request.get("id"):
        return t("rpc_bad_id", text=shown)
    return None


def _usable_id(request: Any) -> Any:
    """The request's id when it is a string or a number, else null (section 5: "it MUST be Null")."""
    request_id = request.get("id") if isinstance(request, dict) else None
    is_number = isinstance(request_id, int | float) and not isinstance(request_id, bool)
    if isinstance(request_id, str) or is_number:
        return request_id
    return None


def _error_reply(request_id: Any, error: RpcError) -> str:
    return json.dumps({"jsonrpc": "2.0", "error": error.to_json(), "id": request_id})


# The client side.


class Request:
    """A call to put in a batch: ``Request("sum", 1, 2, 4)``, ``Request("subtract", minuend=42, subtrahend=23)``."""

    def __init__(self, method: str, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ValueError(t("rpc_args_and_kwargs"))
        self.method = method
        self.params: list[Any] | dict[str, Any] | None = list(args) if args else (kwargs or None)

    def to_json(self, request_id: int) -> dict[str, Any]:
        return {**Notification.to_json(self), "id": request_id}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.method!r}, params={self.params!r})"


class Notification(Request):
    """A message that wants no reply. ``Notification("tick", 3).json()`` is the text to send."""

    def to_json(self) -> dict[str, Any]:  # type: ignore[override]  # no id: that makes it a notification
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": self.method}
        if self.params is not None:
            message["params"] = self.params
        return message

    def json(self) -> str:
        return json.dumps(self.to_json())


class RpcTimeoutError(TimeoutError):
    """No reply came in time; the message names the method, its id and the timeout."""


class RpcDisconnectedError(ConnectionError):
    """The connection closed while a call waited for its reply."""


class RpcClient:
    """JSON-RPC calls over an open `websockets` client connection, many at once.

    Every call gets its own id and a future; one task reads the connection and settles the future
    whose id the reply carries, whatever order the replies come in. Messages from the server
    without an id are notifications: they go to ``notifications`` (an asyncio.Queue of
    ``(method, params)``) and to ``on_notification(method, params)`` if given (what it raises goes
    to ``errors``). Replies no call waits for any more (it timed out), and messages that are no
    JSON-RPC at all, are kept in ``unmatched``: nothing the server sends is dropped unseen.

    Create it inside a running event loop (a notebook cell, an ``async def``); it reads on that loop.
    """

    def __init__(self, websocket: ClientConnection, *, timeout: float = CALL_TIMEOUT,
                 on_notification: Callable[[str, Any], Any] | None = None) -> None:
        self.websocket = websocket
        self.timeout = timeout
        self.on_notification = on_notification
        self.notifications: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.unmatched: list[Any] = []
        self.errors: list[BaseException] = []
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[str, asyncio.Future[Any]]] = {}
        keys = reruns.cell_keys("rpc-client", depth=1)
        for earlier in reruns.started_before(keys):  # the same notebook cell, run again
            closing = asyncio.ensure_future(earlier.close())
            _closing.add(closing)
            closing.add_done_callback(_closing.discard)
        reruns.remember(keys, self)
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def call(self, method: str, /, *args: Any, **kwargs: Any) -> Any:
        """Call `method` with positional or named params; return its result or raise RpcError."""
        request_id = next(self._ids)
        message = json.dumps(Request(method, *args, **kwargs).to_json(request_id))
        future = self._expect(request_id, method)
        try:
            await self._send(message, method)
            return await self._wait(future, method, request_id)
        finally:
            self._forget(request_id)

    async def notify(self, method: str, /, *args: Any, **kwargs: Any) -> None:
        """Send a notification: no id, so the server sends nothing back, not even an error."""
        await self._send(Notification(method, *args, **kwargs).json(), method)

    async def batch(self, requests: list[Request]) -> list[Any]:
        """Send `requests` as one batch; return each Request's result (or RpcError) in their order."""
        if not requests:
            raise ValueError(t("rpc_empty_batch_call"))  # the server could only answer -32600
        messages, waiting = [], []
        for request in requests:
            if isinstance(request, Notification):
                messages.append(request.to_json())
            else:
                request_id = next(self._ids)
                messages.append(request.to_json(request_id))
                waiting.append((request.method, request_id))
        futures = [self._expect(request_id, method) for method, request_id in waiting]
        try:
            await self._send(json.dumps(messages), "batch")
            results = []
            for (method, request_id), future in zip(waiting, futures):
                try:
                    results.append(await self._wait(future, method, request_id))
                except RpcError as error:
                    results.append(error)
            return results
        finally:
            for _, request_id in waiting:
                self._forget(request_id)

    async def close(self) -> None:
        """Close the connection (code 1000); calls still waiting get RpcDisconnectedError."""
        reruns.forget(self)
        await self.websocket.close()
        await asyncio.wait([self._reader])

    def _expect(self, request_id: int, method: str) -> asyncio.Future[Any]:
        if self._reader.done():  # the connection is closed: say so now, not after a timeout
            raise self._closed("rpc_not_sent", method=method)
        future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (method, future)
        return future

    def _forget(self, request_id: int) -> None:
        _, future = self._pending.pop(request_id, (None, None))
        if future is not None and future.done() and not future.cancelled():
            future.exception()  # retrieved: asyncio would warn about an error nobody read

    async def _send(self, message: str, method: str) -> None:
        try:
            await self.websocket.send(message)
        except ConnectionClosed:
            raise self._closed("rpc_not_sent", method=method) from None

    async def _wait(self, future: asyncio.Future[Any], method: str, request_id: int) -> Any:
        try:
            async with asyncio.timeout(self.timeout):
                return await future
        except TimeoutError:
            why = t("rpc_timeout", method=method, id=request_id, timeout=self.timeout)
            raise RpcTimeoutError(why) from None

    async def _read(self) -> None:
        try:
            async for message in self.websocket:
                try:
                    payload = json.loads(message)
                except ValueError:
                    self.unmatched.append(message)
                    continue
                for item in payload if isinstance(payload, list) else [payload]:
                    try:
                        self._receive(item)
                    except Exception:  # whatever this item is, keep reading the others all the same
                        self.unmatched.append(item)
        except ConnectionClosed:
            pass
        finally:
            for request_id, (method, future) in list(self._pending.items()):
                if not future.done():
                    future.set_exception(self._closed("rpc_disconnected", method=method, id=request_id))

    def _receive(self, item: Any) -> None:
        if isinstance(item, dict) and "method" in item and "id" not in item:
            params = item.get("params")
            self.notifications.put_nowait((item["method"], params))
            if self.on_notification is not None:
                try:
                    self.on_notification(item["method"], params)
                except Exception as error:
                    self.errors.append(error)
            return
        request_id = item.get("id") if isinstance(item, dict) else None
        _, future = self._pending.get(request_id, (None, None)) if type(request_id) is int else (None, None)
        if future is None or future.done():
            self.unmatched.append(item)  # a reply to a call that timed out, or an error with id null
        elif "error" in item:
            error = item["error"]
            if isinstance(error, dict) and type(error.get("code")) is int:
                future.set_exception(RpcError(error["code"], error.get("message"), error.get("data")))
            else:  # the call failed, but the server did not say how: fail it now, not at the timeout
                why = t("rpc_malformed_error", error=reprlib.repr(error))
                future.set_exception(RpcError(INTERNAL_ERROR, why))
        else:
            future.set_result(item.get("result"))

    def _closed(self, key: str, **values: Any) -> RpcDisconnectedError:
        code = self.websocket.close_code if self.websocket.close_code is not None else 1006
        return RpcDisconnectedError(t(key, **values, **close_values(code, self.websocket.close_reason)))


# Every sentence above that a learner reads, in both languages.

add_messages({
    "rpc_error": {
        "en": "JSON-RPC error {code}: {message}{data}",
        "id": "Kesalahan JSON-RPC {code}: {message}{data}",
    },
    "rpc_expected_params": {
        "en": "expected {signature}",
        "id": "yang diharapkan: {signature}",
    },
    "rpc_method_failed": {
        "en": "Method {method} raised {error}; the caller got -32603 Internal error, without the details"
        " (the exception, traceback included, is in the dispatcher's .errors)",
        "id": "Method {method} memunculkan {error}; pemanggil mendapat -32603 Internal error, tanpa rinciannya"
        " (exception-nya, beserta traceback-nya, ada di .errors milik dispatcher)",
    },
    "rpc_bad_result": {
        "en": "Method {method} returned {result}, which JSON cannot carry; the caller got -32603 Internal error",
        "id": "Method {method} mengembalikan {result}, yang tidak bisa dibawa JSON; pemanggil mendapat"
        " -32603 Internal error",
    },
    "rpc_rejected": {
        "en": "Answered {code} {message}: {why}",
        "id": "Dijawab {code} {message}: {why}",
    },
    "rpc_silent": {
        "en": "Notification {method} not answered, as notifications never are: {why}",
        "id": "Notifikasi {method} tidak dijawab, karena notifikasi memang tidak pernah dijawab: {why}",
    },
    "rpc_malformed_error": {
        "en": "the server answered with a malformed error, {error}: a JSON-RPC error must be an object"
        " with an integer code and a message",
        "id": "server menjawab dengan error yang tidak sesuai format, {error}: error JSON-RPC harus berupa"
        " objek dengan code (bilangan bulat) dan message",
    },
    "rpc_not_json": {"en": "not valid JSON ({text})", "id": "bukan JSON yang valid ({text})"},
    "rpc_empty_batch": {"en": "an empty batch", "id": "batch yang kosong"},
    "rpc_not_object": {"en": "{text} is not a Request object", "id": "{text} bukan objek Request"},
    "rpc_bad_version": {
        "en": "\"jsonrpc\" must be exactly \"2.0\" in {text}",
        "id": "\"jsonrpc\" harus tepat \"2.0\" di {text}",
    },
    "rpc_bad_method": {
        "en": "\"method\" must be a string in {text}",
        "id": "\"method\" harus berupa string di {text}",
    },
    "rpc_bad_params": {
        "en": "\"params\" must be an array or an object in {text}",
        "id": "\"params\" harus berupa array atau objek di {text}",
    },
    "rpc_bad_id": {
        "en": "\"id\" must be a string, a number or null in {text}",
        "id": "\"id\" harus berupa string, angka, atau null di {text}",
    },
    "rpc_unknown_method": {"en": "no method {method}", "id": "tidak ada method {method}"},
    "rpc_timeout": {
        "en": "no reply to {method} (id {id}) within {timeout} s. Is the method slow, or is the server"
        " answering at all? Raise client.timeout if the method needs longer.",
        "id": "tidak ada jawaban untuk {method} (id {id}) dalam {timeout} detik. Apakah method-nya lambat,"
        " atau server tidak menjawab sama sekali? Naikkan client.timeout jika method-nya butuh lebih lama.",
    },
    "rpc_disconnected": {
        "en": "the connection closed (code {code}{reason}) before {method} (id {id}) got a reply",
        "id": "koneksi tertutup (kode {code}{reason}) sebelum {method} (id {id}) mendapat jawaban",
    },
    "rpc_not_sent": {
        "en": "the connection is closed (code {code}{reason}): {method} was not sent. Connect again.",
        "id": "koneksi sudah tertutup (kode {code}{reason}): {method} tidak terkirim. Hubungkan lagi.",
    },
    "rpc_empty_batch_call": {
        "en": "a batch needs at least one Request or Notification: the specification answers [] with -32600",
        "id": "batch memerlukan paling sedikit satu Request atau Notification: spesifikasi menjawab [] dengan -32600",
    },
    "rpc_args_and_kwargs": {
        "en": "JSON-RPC params are either positional or named, not both: pass *args or **kwargs",
        "id": "params JSON-RPC berupa posisi atau bernama, tidak keduanya: berikan *args atau **kwargs",
    },
    "rpc_not_a_function": {
        "en": "@rpc.method registers a function (def or async def), not {what!r}",
        "id": "@rpc.method mendaftarkan sebuah fungsi (def atau async def), bukan {what!r}",
    },
})
