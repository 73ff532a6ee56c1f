"""The install self-check that opens every lesson."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import wstutorial
from wstutorial.setup_check import NEEDED, problems

PYPROJECT = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())


def test_this_environment_is_ready(capsys):
    wstutorial.check_setup()
    assert "✓" in capsys.readouterr().out


def test_nest_asyncio_is_reported_with_the_way_out(monkeypatch):
    monkeypatch.setattr(asyncio, "_nest_patched", True, raising=False)
    with pytest.raises(RuntimeError, match=r"nest_asyncio\.apply\(\)"):
        wstutorial.check_setup()


def test_an_old_package_is_reported_with_the_pip_command(monkeypatch):
    monkeypatch.setattr("wstutorial.setup_check.version", lambda name: "1.0")
    assert any("pip install 'websockets>=17'" in problem for problem in problems())


def test_the_minimum_versions_checked_are_those_pyproject_requires():
    required = {r.name: r.specifier for r in map(Requirement, PYPROJECT["project"]["dependencies"])}
    for package, minimum in NEEDED.items():
        assert str(required[package]) == f">={minimum}", package


def test_the_setup_check_covers_every_package_the_lessons_run_on():
    required = {Requirement(r).name for r in PYPROJECT["project"]["dependencies"]}
    for package in ("websockets", "ipywidgets", "ipykernel"):
        assert package in required, package
        assert package in NEEDED, f"check_setup() does not check {package}"
