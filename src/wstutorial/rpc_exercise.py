"""Lesson 06's exercise check: `multiply(a, b)` answers a product, and -32602 for anything but numbers.

Like every check in the lessons, it runs the learner's code for real: the method is served by a
websockets server with the lesson's handler and called over a WebSocket by `RpcClient`.
"""

from __future__ import annotations

import json
from typing import Any

from websockets.asyncio.client import connect

from . import loop
from .i18n import add_messages, t
from .rpc import INVALID_PARAMS, Dispatcher, RpcClient, RpcError, RpcTimeoutError
from .server import serve_in_background

CHECK_TIMEOUT = 10.0
MULTIPLY_PROBES = [  # params, and what must come back: ("result", value) or ("error", code)
    ([6, 7], ("result", 42)),
    ({"a": 2.5, "b": 4}, ("result", 10.0)),
    ([2], ("error", INVALID_PARAMS)),
    (["x", 3], ("error", INVALID_PARAMS)),
    ([[1], 2], ("error", INVALID_PARAMS)),
    ([2, "3"], ("error", INVALID_PARAMS)),
]

add_messages({
    "rpc_not_tried": {
        "en": "Not tried yet: write your multiply method in the cell above, run it, then run this cell again.",
        "id": "Belum dicoba: tulis method multiply Anda di sel di atas, jalankan, lalu jalankan sel ini lagi.",
    },
    "rpc_check_result": {
        "en": "multiply with params {params} should answer {want!r}, but answered {got}.",
        "id": "multiply dengan params {params} seharusnya menjawab {want!r}, tetapi menjawab {got}.",
    },
    "rpc_check_error": {
        "en": "multiply with params {params} should answer error -32602 Invalid params, but answered {got}."
        " Check that both are numbers and `raise InvalidParams(...)` if not.",
        "id": "multiply dengan params {params} seharusnya menjawab dengan kesalahan -32602 Invalid params, tetapi menjawab"
        " {got}. Periksa bahwa keduanya angka, dan `raise InvalidParams(...)` jika bukan.",
    },
    "rpc_check_repeat": {
        "en": " In Python, * also repeats strings and lists (\"x\" * 3 is \"xxx\"), so it does not refuse them by itself.",
        "id": " Di Python, * juga mengulang string dan list (\"x\" * 3 menjadi \"xxx\"), jadi ia tidak menolaknya sendiri.",
    },
    "rpc_check_raised": {
        "en": " Your method raised an exception, which the caller only sees as -32603 Internal error ({error}).",
        "id": " Method Anda memunculkan exception, yang hanya terlihat oleh pemanggil sebagai -32603 Internal error"
        " ({error}).",
    },
    "rpc_check_not_function": {
        "en": "multiply should be a function, `def multiply(a, b): ...`, not {what!r}.",
        "id": "multiply seharusnya sebuah fungsi, `def multiply(a, b): ...`, bukan {what!r}.",
    },
})


def check_multiply(multiply: object) -> None:
    """Lesson 06: `multiply(a, b)` answers a product, and -32602 Invalid params for anything but numbers."""
    if multiply is None:
        print(t("rpc_not_tried"))
        return
    if not callable(multiply):
        raise AssertionError(t("rpc_check_not_function", what=multiply))
    rpc = Dispatcher()
    rpc.method(multiply, name="multiply")

    async def handler(websocket: Any) -> None:
        async for message in websocket:
            reply = await rpc.handle(message, context=websocket)
            if reply is not None:
                await websocket.send(reply)

    server = serve_in_background(handler)
    try:
        problem = loop.run(_try_multiply(server.url, rpc), timeout=CHECK_TIMEOUT)
    finally:
        server.stop(timeout=1)
    if problem:
        raise AssertionError(problem)
    print(t("well_done"))


async def _try_multiply(url: str, rpc: Dispatcher) -> str | None:
    """What is wrong with the multiply method `rpc` serves at `url`, or None."""
    async with connect(url) as websocket:
        client = RpcClient(websocket, timeout=2)
        for params, (kind, want) in MULTIPLY_PROBES:
            args, kwargs = (params, {}) if isinstance(params, list) else ([], params)
            raised_before = len(rpc.errors)
            try:
                got = await client.call("multiply", *args, **kwargs)
            except (RpcError, RpcTimeoutError) as error:
                got = error
            shown = str(got) if isinstance(got, Exception) else repr(got)
            why = ""
            if len(rpc.errors) > raised_before:
                error = rpc.errors[-1]
                why = t("rpc_check_raised", error=f"{type(error).__name__}: {error}")
            elif isinstance(got, str | list):
                why = t("rpc_check_repeat")
            if kind == "result" and got != want:
                return t("rpc_check_result", params=json.dumps(params), want=want, got=shown) + why
            if kind == "error" and not (isinstance(got, RpcError) and got.code == want):
                return t("rpc_check_error", params=json.dumps(params), got=shown) + why
    return None
