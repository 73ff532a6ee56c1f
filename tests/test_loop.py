"""The background loop: timeouts cancel, re-entry and blocking are named, stray task errors stay quiet."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

import pytest
from websockets.sync.client import connect

from helpers import wait_until
from wstutorial import LoopBlockedError, echo, log, loop, serve_in_background

pytestmark = pytest.mark.usefixtures("english")


def round_trip(url, text):
    with connect(url, open_timeout=5, ping_interval=None) as client:
        client.send(text)
        return client.recv(timeout=5)


# Timeouts.


def test_a_timed_out_coroutine_is_cancelled_not_left_running():
    cancelled = threading.Event()

    async def slow():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    started = time.monotonic()
    with pytest.raises(TimeoutError, match="did not finish within 0.2 s"):
        loop.run(slow(), timeout=0.2)
    assert time.monotonic() - started < 3
    assert cancelled.wait(5), "the coroutine still runs on the background loop"


# Calling the loop from a handler, which runs on it.


def test_loop_run_from_a_handler_raises_cannot_be_called_from_a_handler(start_server):
    async def calls_loop_run(websocket):
        async for _message in websocket:
            try:
                loop.run(asyncio.sleep(0))
            except RuntimeError as error:
                await websocket.send(f"{type(error).__name__}: {error}")

    server = start_server(calls_loop_run)
    reply = round_trip(server.url, "go")
    assert reply.startswith("RuntimeError: ")
    assert "cannot be called from a handler" in reply
    assert "await the websockets call directly" in reply
    assert server.running and server.errors == []


def test_server_stop_from_its_own_handler_raises_instead_of_deadlocking(start_server):
    servers = []

    async def stops_its_server(websocket):
        async for _message in websocket:
            try:
                servers[0].stop()
            except RuntimeError as error:
                await websocket.send(str(error))

    servers.append(start_server(stops_its_server))
    assert "cannot be called from a handler" in round_trip(servers[0].url, "stop")
    assert servers[0].running


def test_broadcast_from_a_handler_reaches_every_client(start_server):
    rooms = []

    async def chat_room(websocket):
        async for message in websocket:
            rooms[0].broadcast(f"Everyone: {message}")

    server = start_server(chat_room)
    rooms.append(server)
    with connect(server.url, open_timeout=5, ping_interval=None) as alice, \
            connect(server.url, open_timeout=5, ping_interval=None) as bob:
        assert wait_until(lambda: len(server.connections) == 2)
        alice.send("hi all")
        assert alice.recv(timeout=5) == "Everyone: hi all"
        assert bob.recv(timeout=5) == "Everyone: hi all"
    assert server.errors == []


# A handler that blocks the loop.


def test_a_blocked_loop_raises_loop_blocked_error_naming_time_sleep_then_recovers(start_server):
    released = threading.Event()

    async def sleeps_blocking(websocket):
        async for _message in websocket:
            log("sleeping")
            while not released.is_set():  # the mistake: time.sleep blocks the whole background loop
                time.sleep(0.05)
            await websocket.send("awake")

    server = start_server(sleeps_blocking)
    with connect(server.url, open_timeout=5, ping_interval=None) as client:
        try:
            client.send("sleep")
            assert wait_until(lambda: "sleeping" in server.log)
            started = time.monotonic()
            with pytest.raises(LoopBlockedError) as blocked:
                loop.run(asyncio.sleep(0), timeout=0.5)
            assert time.monotonic() - started < 5
        finally:
            released.set()  # whatever failed above, the loop must not stay blocked for the next tests
        assert client.recv(timeout=10) == "awake"
    message = str(blocked.value)
    assert "time.sleep" in message
    assert "await asyncio.sleep" in message
    assert loop.is_responsive()
    with serve_in_background(echo) as fresh:
        assert round_trip(fresh.url, "again") == "Server: again"


# Errors of tasks a handler started and never awaited.


async def boom():
    raise ValueError("boom in the background")


async def starts_a_failing_task(websocket):
    asyncio.create_task(boom())  # never awaited: its error is only seen when the task is collected
    async for message in websocket:
        await websocket.send(f"Server: {message}")


async def collect_garbage():
    gc.collect()


def test_an_unawaited_task_error_goes_to_the_server_log_not_to_the_cell(start_server, capfd, caplog):
    server = start_server(starts_a_failing_task)
    assert round_trip(server.url, "hello") == "Server: hello"

    def reported():
        loop.run(collect_garbage(), timeout=5)
        return any(entry.startswith("Error in a background task") for entry in server.log)

    assert wait_until(reported), server.log
    [entry] = [e for e in server.log if e.startswith("Error in a background task")]
    assert "ValueError: boom in the background" in entry
    assert round_trip(server.url, "still serving") == "Server: still serving"
    assert capfd.readouterr() == ("", "")
    assert [r for r in caplog.records if r.name == "asyncio"] == []


def test_an_unawaited_task_error_goes_to_the_log_of_the_server_whose_handler_started_it(start_server, echo_server):
    server = start_server(starts_a_failing_task)
    assert round_trip(server.url, "hello") == "Server: hello"

    def reported():
        loop.run(collect_garbage(), timeout=5)
        return any(entry.startswith("Error in a background task") for entry in server.log)

    assert wait_until(reported), server.log
    assert not any(entry.startswith("Error in a background task") for entry in echo_server.log), echo_server.log


async def fails_in_a_reference_cycle():
    me = asyncio.current_task()  # task -> error -> traceback -> this frame -> task: only gc frees it
    raise ValueError("nobody awaited me")


async def starts_a_task_that_fails_in_a_cycle(websocket):
    asyncio.create_task(fails_in_a_reference_cycle())
    await websocket.wait_closed()


def test_an_error_from_a_task_the_garbage_collector_frees_goes_to_its_own_server_only(start_server, echo_server):
    starter = start_server(starts_a_task_that_fails_in_a_cycle)
    with connect(starter.url):
        pass

    def reported():
        loop.run(collect_garbage(), timeout=5)
        return any("nobody awaited me" in entry for entry in starter.log)

    assert wait_until(reported), starter.log
    assert not any("nobody awaited me" in entry for entry in echo_server.log), echo_server.log
