"""The lessons' self-checks: they pass a right answer, fail a wrong one, and wait for a first try."""

from __future__ import annotations

import asyncio
import re
import runpy
import time

import pytest

from tools.notebooks import NOTEBOOKS
from wstutorial import check_greeter, echo

pytestmark = pytest.mark.usefixtures("english")


def load_solution(name: str, function: str):
    return runpy.run_path(str(NOTEBOOKS / "solutions" / name))[function]


def test_greeter_solution_passes_its_check(capsys):
    check_greeter(load_solution("01-greeter.py", "greeter"))
    assert "✓" in capsys.readouterr().out


def test_greeter_check_says_not_tried_while_the_placeholder_is_there(capsys):
    check_greeter(None)
    assert "Not tried yet" in capsys.readouterr().out


def test_greeter_check_fails_a_server_that_does_not_speak_first():
    with pytest.raises(AssertionError, match="sent nothing"):
        check_greeter(echo)


async def greets_but_does_not_echo(websocket):
    await websocket.send("hi")
    async for message in websocket:
        await websocket.send(message.upper())


def test_greeter_check_fails_a_server_that_forgets_to_echo():
    with pytest.raises(AssertionError, match="expected 'Server: ping'"):
        check_greeter(greets_but_does_not_echo)


async def greets_with_nothing(websocket):
    await websocket.send("")
    async for message in websocket:
        await websocket.send(f"Server: {message}")


def test_greeter_check_fails_an_empty_greeting():
    with pytest.raises(AssertionError, match="greeting is empty"):
        check_greeter(greets_with_nothing)


async def echoes_with_extra(websocket):
    await websocket.send("hi")
    async for message in websocket:
        await websocket.send(f"Server: {message}!!")


def test_greeter_check_wants_the_exact_echo_not_one_containing_it():
    with pytest.raises(AssertionError, match="got 'Server: ping!!'"):
        check_greeter(echoes_with_extra)


async def greets_then_returns(websocket):
    await websocket.send("hi")


def test_greeter_check_fails_a_server_that_stops_after_greeting():
    with pytest.raises(AssertionError, match="`async for message in websocket:`"):
        check_greeter(greets_then_returns)


async def greets_then_raises(websocket):
    await websocket.send("hi")
    raise ValueError("no echo today")


def test_greeter_check_names_the_error_the_handler_raised():
    with pytest.raises(AssertionError) as failed:
        check_greeter(greets_then_raises)
    assert "raised ValueError: no echo today" in str(failed.value)
    assert "1011" in str(failed.value)


def sync_greeter(websocket):
    pass


def test_greeter_check_of_a_plain_def_asks_for_async_def():
    with pytest.raises(TypeError, match="async def sync_greeter"):
        check_greeter(sync_greeter)


async def greets_then_sleeps(websocket):
    await websocket.send("hi")
    await asyncio.sleep(3600)


def test_greeter_check_of_a_server_that_never_answers_fails_in_seconds():
    started = time.monotonic()
    with pytest.raises(AssertionError, match="got no answer within 2 s"):
        check_greeter(greets_then_sleeps)
    assert time.monotonic() - started < 10


def test_every_load_line_in_a_lesson_points_at_a_solution_that_exists():
    for language in ("en", "id"):
        for path in sorted((NOTEBOOKS / language).glob("*.ipynb")):
            loads = re.findall(r"%load (\S+)", path.read_text(encoding="utf-8"))
            assert loads, f"{path.name} has no loadable solution"
            for target in loads:
                assert (path.parent / target.rstrip('\\n",')).is_file(), (path, target)
