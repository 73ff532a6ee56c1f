"""The lessons' self-checks: they pass a right answer, fail a wrong one, and wait for a first try."""

from __future__ import annotations

import re
import runpy

import pytest

from tools.notebooks import NOTEBOOKS
from wstutorial import check_greeter, echo


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


def test_every_load_line_in_a_lesson_points_at_a_solution_that_exists():
    for language in ("en", "id"):
        for path in sorted((NOTEBOOKS / language).glob("*.ipynb")):
            loads = re.findall(r"%load (\S+)", path.read_text(encoding="utf-8"))
            assert loads, f"{path.name} has no loadable solution"
            for target in loads:
                assert (path.parent / target.rstrip('\\n",')).is_file(), (path, target)
