"""JSON-RPC 2.0 over WebSocket (lesson 06): the specification's own examples, the dispatcher, the client.

The server side is the handler lesson 06 shows, on a real websockets server; the examples are
section 7 of https://www.jsonrpc.org/specification, request and response text as printed there.
"""

from __future__ import annotations

import asyncio
import json
import runpy
import time

import pytest
from websockets.asyncio.client import connect
from websockets.sync.client import connect as connect_sync

from helpers import wait_until
from tools.notebooks import NOTEBOOKS
from wstutorial import loop
from wstutorial.rpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    Dispatcher,
    InvalidParams,
    Notification,
    Request,
    RpcClient,
    RpcDisconnectedError,
    RpcError,
    RpcTimeoutError,
)
from wstutorial.rpc_examples import MARKER, MARKER_REPLY, SPEC_EXAMPLES, canonical
from wstutorial.rpc_exercise import check_multiply

pytestmark = pytest.mark.usefixtures("english")


def spec_methods() -> Dispatcher:
    """The methods section 7 calls; foobar and foo.get stay undefined, as the examples need."""
    rpc = Dispatcher()

    @rpc.method
    def subtract(minuend, subtrahend):
        return minuend - subtrahend

    @rpc.method
    def update(*values):
        pass

    @rpc.method(name="sum")
    def total(*numbers):
        return sum(numbers)

    @rpc.method
    def notify_hello(*values):
        pass

    @rpc.method
    def notify_sum(*numbers):
        pass

    @rpc.method
    async def get_data():
        return ["hello", 5]

    return rpc


def lesson_handler(rpc: Dispatcher):
    """The handler lesson 06 shows: each message in, its reply (if any) out, in order."""
    async def handler(websocket):
        async for message in websocket:
            reply = await rpc.handle(message, context=websocket)
            if reply is not None:
                await websocket.send(reply)

    return handler


def concurrent_handler(rpc: Dispatcher):
    """The lesson's second handler: each message answered in its own task, so slow calls do not queue."""
    async def handler(websocket):
        answering = set()

        async def answer(message):
            reply = await rpc.handle(message, context=websocket)
            if reply is not None:
                await websocket.send(reply)

        async for message in websocket:
            task = asyncio.create_task(answer(message))
            answering.add(task)
            task.add_done_callback(answering.discard)

    return handler


@pytest.fixture
def spec_server(start_server):
    return start_server(lesson_handler(spec_methods()))


def test_section_7_has_fifteen_exchanges():
    # Twelve example headings; the first two show two calls each, the notification example two messages.
    assert len(SPEC_EXAMPLES) == 15


@pytest.mark.parametrize("title, request_text, response_text", SPEC_EXAMPLES, ids=[e[0] for e in SPEC_EXAMPLES])
def test_each_section_7_example_gets_the_specified_response_over_a_websocket(
    spec_server, title, request_text, response_text
):
    with connect_sync(spec_server.url) as websocket:
        websocket.send(request_text)
        websocket.send(MARKER)
        first = websocket.recv(timeout=5)
        if response_text is None:
            assert canonical(first) == canonical(MARKER_REPLY), f"{title}: expected no reply, got {first}"
        else:
            assert canonical(first) == canonical(response_text)
            assert canonical(websocket.recv(timeout=5)) == canonical(MARKER_REPLY)


def test_all_section_7_examples_pass_one_after_another_on_one_connection(spec_server):
    passed = 0
    with connect_sync(spec_server.url) as websocket:
        for _, request_text, response_text in SPEC_EXAMPLES:
            websocket.send(request_text)
            websocket.send(MARKER)
            first = websocket.recv(timeout=5)
            if response_text is None:
                passed += canonical(first) == canonical(MARKER_REPLY)
            else:
                passed += canonical(first) == canonical(response_text)
                websocket.recv(timeout=5)
    assert passed == len(SPEC_EXAMPLES) == 15


# The dispatcher alone: text in, text out, no connection needed.


def handle(rpc: Dispatcher, message) -> object:
    reply = asyncio.run(rpc.handle(message if isinstance(message, str | bytes) else json.dumps(message)))
    return None if reply is None else json.loads(reply)


def call(method, *args, **kwargs) -> dict:
    params = list(args) if args else kwargs
    return {"jsonrpc": "2.0", "method": method, "params": params, "id": 7}


def test_params_that_do_not_fit_the_signature_are_invalid_params_naming_what_fits():
    reply = handle(spec_methods(), call("subtract", 42))
    assert reply["error"]["code"] == INVALID_PARAMS == -32602
    assert reply["error"]["data"] == "expected subtract(minuend, subtrahend)"
    assert reply["id"] == 7


def test_an_unknown_named_param_is_invalid_params_too():
    reply = handle(spec_methods(), call("subtract", minuend=1, subtrahend=2, extra=3))
    assert reply["error"]["code"] == INVALID_PARAMS


def test_an_exception_inside_a_method_is_an_internal_error_without_its_details():
    rpc = Dispatcher()

    @rpc.method
    def divide(a, b):
        return a / b

    reply = handle(rpc, call("divide", 1, 0))
    assert reply == {"jsonrpc": "2.0", "error": {"code": INTERNAL_ERROR, "message": "Internal error"}, "id": 7}
    assert isinstance(rpc.errors[-1], ZeroDivisionError)  # the traceback stays on the server
    assert rpc.errors[-1].__traceback__ is not None
    assert "ZeroDivisionError: division by zero" in rpc.log[-1]


def test_a_method_can_answer_with_its_own_error_code_and_data():
    rpc = Dispatcher()

    @rpc.method
    def withdraw(amount):
        raise RpcError(-32001, "Insufficient funds", {"balance": 5})

    reply = handle(rpc, call("withdraw", 10))
    assert reply["error"] == {"code": -32001, "message": "Insufficient funds", "data": {"balance": 5}}


def test_invalid_params_raised_by_a_method_is_minus_32602():
    rpc = Dispatcher()

    @rpc.method
    def square(x):
        if not isinstance(x, int | float):
            raise InvalidParams("x must be a number")
        return x * x

    assert handle(rpc, call("square", "a"))["error"] == {
        "code": -32602, "message": "Invalid params", "data": "x must be a number"}
    assert handle(rpc, call("square", 3))["result"] == 9


def test_a_result_json_cannot_carry_is_an_internal_error():
    rpc = Dispatcher()
    rpc.method(lambda: {1, 2}, name="a_set")
    rpc.method(lambda: float("nan"), name="not_a_number")
    assert handle(rpc, call("a_set"))["error"]["code"] == INTERNAL_ERROR
    assert handle(rpc, call("not_a_number"))["error"]["code"] == INTERNAL_ERROR
    assert "a_set" in rpc.log[0] and "not_a_number" in rpc.log[1]


@pytest.mark.parametrize("text", ["NaN", '{"jsonrpc": "2.0", "method": "x", "params": [Infinity], "id": 1}',
                                  "[" * 100_000, b"\xff\xfe", ""])
def test_what_is_not_json_is_a_parse_error(text):
    assert handle(Dispatcher(), text) == {
        "jsonrpc": "2.0", "error": {"code": PARSE_ERROR, "message": "Parse error"}, "id": None}


@pytest.mark.parametrize("request_id", [True, [1], {"a": 1}])
def test_an_id_that_is_not_a_string_number_or_null_makes_an_invalid_request_answered_with_null(request_id):
    reply = handle(spec_methods(), {"jsonrpc": "2.0", "method": "get_data", "id": request_id})
    assert reply == {"jsonrpc": "2.0", "error": {"code": INVALID_REQUEST, "message": "Invalid Request"}, "id": None}


@pytest.mark.parametrize("message", [
    {"jsonrpc": "1.0", "method": "get_data", "id": 5},
    {"method": "get_data", "id": 5},
    {"jsonrpc": "2.0", "method": "get_data", "params": 3, "id": 5},
])
def test_an_invalid_request_with_a_readable_id_is_answered_with_that_id(message):
    reply = handle(spec_methods(), message)
    assert reply["error"]["code"] == INVALID_REQUEST and reply["id"] == 5


def test_binary_messages_holding_json_are_handled_like_text():
    assert handle(spec_methods(), json.dumps(call("subtract", 5, 3)).encode())["result"] == 2


def test_a_failing_notification_gets_no_reply_but_is_logged():
    rpc = spec_methods()
    assert handle(rpc, {"jsonrpc": "2.0", "method": "subtract", "params": [1]}) is None
    assert handle(rpc, {"jsonrpc": "2.0", "method": "nope"}) is None
    assert "Notification subtract" in rpc.log[0] and "-32602" in rpc.log[0]
    assert "Notification nope" in rpc.log[1] and "-32601" in rpc.log[1]


def test_a_batch_runs_its_calls_concurrently():
    rpc = Dispatcher()
    both_running = asyncio.Barrier(2)  # passes only once two calls wait at the same time

    @rpc.method
    async def meet():
        async with asyncio.timeout(2):
            await both_running.wait()
        return "met"

    reply = handle(rpc, [call("meet") | {"id": 1}, call("meet") | {"id": 2}])
    assert [item.get("result") for item in reply] == ["met", "met"], reply


def test_methods_registered_with_context_get_what_the_handler_passed_first():
    rpc = Dispatcher()

    @rpc.method(context=True)
    def who(connection, greeting):
        return f"{greeting}, {connection}"

    reply = asyncio.run(rpc.handle(json.dumps(call("who", "hi")), context="client-1"))
    assert json.loads(reply)["result"] == "hi, client-1"
    assert handle(rpc, call("who"))["error"]["data"] == "expected who(greeting)"


def test_registering_something_that_is_not_a_function_says_so():
    with pytest.raises(TypeError, match="registers a function"):
        Dispatcher().method(42)


# The client, against real servers.


def run(coroutine):
    return loop.run(coroutine, timeout=20)


def tools_methods() -> Dispatcher:
    rpc = spec_methods()

    @rpc.method
    async def slow_echo(value, delay):
        await asyncio.sleep(delay)
        return value

    @rpc.method
    def fail(reason):
        raise RpcError(-32000, "Failed on purpose", reason)

    @rpc.method(context=True)
    async def subscribe(websocket, count):
        for n in range(count):
            await websocket.send(Notification("tick", n).json())
        return "subscribed"

    return rpc


@pytest.fixture
def tools_server(start_server):
    return start_server(concurrent_handler(tools_methods()))


def test_a_hundred_calls_in_flight_on_one_connection_each_get_their_own_reply(tools_server):
    async def scenario():
        finished = []

        async def timed(client, n):
            # Later calls are quicker: with calls answered concurrently, replies come back out of order.
            result = await client.call("slow_echo", n, (100 - n) * 0.002)
            finished.append(n)
            return result

        async with connect(tools_server.url) as websocket:
            client = RpcClient(websocket)
            results = await asyncio.gather(*(timed(client, n) for n in range(100)))
        return results, finished

    results, finished = run(scenario())
    assert results == list(range(100))
    assert finished != sorted(finished)


def test_named_params_an_error_reply_and_its_code_message_and_data(tools_server):
    async def scenario():
        async with connect(tools_server.url) as websocket:
            client = RpcClient(websocket)
            named = await client.call("subtract", minuend=42, subtrahend=23)
            try:
                await client.call("fail", "on purpose")
            except RpcError as error:
                return named, error

    named, error = run(scenario())
    assert named == 19
    assert (error.code, error.message, error.data) == (-32000, "Failed on purpose", "on purpose")
    assert str(error) == "JSON-RPC error -32000: Failed on purpose (on purpose)"


def test_positional_and_named_params_together_are_refused_before_sending():
    with pytest.raises(ValueError, match="not both"):
        Request("subtract", 1, subtrahend=2)


def test_a_batch_returns_each_result_in_the_order_asked_and_errors_in_their_place(tools_server):
    async def scenario():
        async with connect(tools_server.url) as websocket:
            client = RpcClient(websocket)
            return await client.batch([
                Request("sum", 1, 2, 4),
                Notification("notify_hello", 7),
                Request("slow_echo", "late", 0.05),
                Request("subtract", 42, 23),
                Request("foo.get", name="myself"),
            ])

    total, late, difference, missing = run(scenario())
    assert (total, late, difference) == (7, "late", 19)
    assert isinstance(missing, RpcError) and missing.code == METHOD_NOT_FOUND


def test_a_batch_of_notifications_only_returns_at_once(tools_server):
    async def scenario():
        async with connect(tools_server.url) as websocket:
            client = RpcClient(websocket, timeout=1)
            results = await client.batch([Notification("notify_sum", 1, 2, 4), Notification("notify_hello", 7)])
            return results, await client.call("get_data")

    assert run(scenario()) == ([], ["hello", 5])


def test_notifications_the_server_pushes_reach_the_queue_and_the_callback(tools_server):
    async def scenario():
        seen = []
        async with connect(tools_server.url) as websocket:
            client = RpcClient(websocket, on_notification=lambda method, params: seen.append((method, params)))
            answer = await client.call("subscribe", 3)
            queued = [await asyncio.wait_for(client.notifications.get(), 2) for _ in range(3)]
        return answer, queued, seen

    answer, queued, seen = run(scenario())
    assert answer == "subscribed"
    assert queued == seen == [("tick", [0]), ("tick", [1]), ("tick", [2])]


def test_an_empty_batch_is_refused_before_sending(tools_server):
    async def scenario():
        async with connect(tools_server.url) as websocket:
            await RpcClient(websocket).batch([])

    with pytest.raises(ValueError, match="at least one Request"):
        run(scenario())


def test_a_failing_notification_callback_is_recorded_and_the_client_keeps_reading(tools_server):
    def broken(method, params):
        raise KeyError(method)

    async def scenario():
        async with connect(tools_server.url) as websocket:
            client = RpcClient(websocket, on_notification=broken)
            await client.call("subscribe", 2)
            return await client.call("subtract", 5, 3), client.errors, client.notifications.qsize()

    result, errors, queued = run(scenario())
    assert result == 2 and queued == 2
    assert [repr(e) for e in errors] == ["KeyError('tick')", "KeyError('tick')"]


def test_what_the_server_sends_that_is_no_reply_is_kept_and_calls_go_on(start_server):
    rpc = tools_methods()

    async def talks_nonsense_too(websocket):
        await websocket.send("not JSON")
        async for message in websocket:
            await websocket.send('{"jsonrpc": "2.0", "result": "for nobody", "id": 999}')
            await websocket.send(await rpc.handle(message))

    server = start_server(talks_nonsense_too)

    async def scenario():
        async with connect(server.url) as websocket:
            client = RpcClient(websocket)
            return await client.call("subtract", 5, 3), client.unmatched

    result, unmatched = run(scenario())
    assert result == 2
    assert unmatched == ["not JSON", {"jsonrpc": "2.0", "result": "for nobody", "id": 999}]


@pytest.mark.parametrize("error", ["not an object", None, 7, {"message": "no code"}, {"code": "1", "message": "x"}])
def test_a_malformed_error_reply_fails_its_call_at_once_saying_so_and_calls_go_on(start_server, error):
    rpc = tools_methods()

    async def answers_the_first_call_with_a_malformed_error(websocket):
        async for message in websocket:
            request = json.loads(message)
            if request["id"] == 1:
                await websocket.send(json.dumps({"jsonrpc": "2.0", "error": error, "id": 1}))
            else:
                await websocket.send(await rpc.handle(message))

    server = start_server(answers_the_first_call_with_a_malformed_error)

    async def scenario():
        async with connect(server.url) as websocket:
            client = RpcClient(websocket, timeout=5)  # it must fail long before this
            started = time.monotonic()
            with pytest.raises(RpcError) as failed:
                await client.call("subtract", 5, 3)
            waited = time.monotonic() - started
            return failed.value, waited, await client.call("subtract", 5, 3)

    failed, waited, result = run(scenario())
    assert waited < 2  # not the 5 s timeout, which would blame a slow method
    assert failed.code == -32603
    assert str(failed).startswith("JSON-RPC error -32603: the server answered with a malformed error")
    assert result == 2


def test_a_call_without_a_reply_in_time_raises_a_timeout_naming_it_and_keeps_the_late_reply(tools_server):
    async def scenario():
        async with connect(tools_server.url) as websocket:
            client = RpcClient(websocket, timeout=0.1)
            with pytest.raises(RpcTimeoutError) as timed_out:
                await client.call("slow_echo", "late", 0.3)
            client.timeout = 5
            await client.call("slow_echo", "marker", 0.4)  # by then the late reply has arrived
            return str(timed_out.value), client.unmatched

    message, unmatched = run(scenario())
    assert message.startswith("no reply to slow_echo (id 1) within 0.1 s")
    assert unmatched == [{"jsonrpc": "2.0", "result": "late", "id": 1}]


def test_calls_waiting_when_the_connection_closes_fail_at_once_with_the_close_code(start_server):
    server = start_server(concurrent_handler(tools_methods()))

    async def scenario():
        websocket = await connect(server.url)
        client = RpcClient(websocket, timeout=10)
        waiting = asyncio.create_task(client.call("slow_echo", "never", 5))
        await asyncio.sleep(0.1)
        await asyncio.to_thread(server.stop, 1)
        with pytest.raises(RpcDisconnectedError) as closed_while_waiting:
            await waiting
        with pytest.raises(RpcDisconnectedError) as closed_before:
            await client.call("get_data")
        return str(closed_while_waiting.value), str(closed_before.value)

    while_waiting, before = run(scenario())
    assert "before slow_echo (id 1) got a reply" in while_waiting and "1001" in while_waiting
    assert before == "the connection is closed (code 1001): get_data was not sent. Connect again."


def test_malformed_input_never_stops_the_server_and_other_clients_keep_being_served(tools_server):
    async def scenario():
        async with connect(tools_server.url) as good, connect(tools_server.url) as bad:
            client = RpcClient(good)
            before = await client.call("subtract", 10, 4)
            for junk in ["{", "[1]", "[" * 100_000, b"\x00\xff", '"just a string"', "[]", "null"]:
                await bad.send(junk)
                assert '"error": {"code": -32' in await bad.recv()
            await bad.send(json.dumps(call("subtract", 3, 1)))
            still_served = json.loads(await bad.recv())["result"]
            return before, await client.call("subtract", 10, 4), still_served

    assert run(scenario()) == (6, 6, 2)
    assert tools_server.running and tools_server.errors == []


CLIENT_CELL = """
async def make_client():
    return RpcClient(await connect(url))
"""


def test_running_the_client_cell_again_closes_the_client_it_made_before(run_cell, tools_server):
    names = {"RpcClient": RpcClient, "connect": connect, "url": tools_server.url}
    first = run(run_cell(CLIENT_CELL, **names)["make_client"]())
    second = run(run_cell(CLIENT_CELL, **names)["make_client"]())
    assert wait_until(lambda: first.websocket.close_code == 1000)
    assert run(second.call("subtract", 5, 3)) == 2
    run(second.close())


# The exercise.


def load_multiply():
    return runpy.run_path(str(NOTEBOOKS / "solutions" / "06-multiply.py"))["multiply"]


def test_multiply_check_says_not_tried_while_the_placeholder_is_there(capsys):
    check_multiply(None)
    assert "Not tried yet" in capsys.readouterr().out


def test_multiply_solution_passes_its_check(capsys):
    check_multiply(load_multiply())
    assert "✓" in capsys.readouterr().out


def test_multiply_check_fails_a_method_that_lets_python_repeat_strings():
    with pytest.raises(AssertionError) as failed:
        check_multiply(lambda a, b: a * b)
    assert "params [\"x\", 3] should answer error -32602" in str(failed.value)
    assert "'xxx'" in str(failed.value) and "repeats strings" in str(failed.value)


def test_multiply_check_explains_an_exception_seen_as_internal_error():
    def multiply(a, b):
        return float(a) * float(b)  # float("x") raises ValueError: -32603, not -32602

    with pytest.raises(AssertionError) as failed:
        check_multiply(multiply)
    assert "-32603 Internal error" in str(failed.value) and "ValueError" in str(failed.value)


def test_multiply_check_fails_a_wrong_product():
    with pytest.raises(AssertionError, match="should answer 42, but answered 13"):
        check_multiply(lambda a, b: a + b)


def test_multiply_check_wants_a_function():
    with pytest.raises(AssertionError, match="should be a function"):
        check_multiply("a * b")
