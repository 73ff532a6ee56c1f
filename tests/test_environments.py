"""The three install routes name the same packages: pyproject.toml, binder/, environment.yml.

pyproject.toml's [project].dependencies is the source of truth. binder/requirements.txt pins each
of them with == to a version inside pyproject's range; environment.yml lists each with the same
lower bound. The helpers below compare in-memory lists, so the last tests can feed them drift on
purpose and check that they catch it.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).parent.parent
PYPROJECT = ROOT / "pyproject.toml"
BINDER = ROOT / "binder"
ENVIRONMENT = ROOT / "environment.yml"

# environment.yml entries that are not project dependencies.
CONDA_TOOLING = {"python", "pip"}


# --- reading --------------------------------------------------------------------------------


def pyproject() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def project_dependencies() -> list[str]:
    return pyproject()["project"]["dependencies"]


def requirement_lines(text: str) -> list[str]:
    """The requirement lines of a requirements.txt: no blanks, no comments."""
    lines = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def binder_requirements() -> list[str]:
    return requirement_lines((BINDER / "requirements.txt").read_text(encoding="utf-8"))


def environment() -> dict:
    return yaml.safe_load(ENVIRONMENT.read_text(encoding="utf-8"))


def conda_and_pip_entries(env: dict) -> tuple[list[str], list[str]]:
    """environment.yml's conda dependency strings, and its pip section."""
    conda, pip = [], []
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            pip.extend(entry.get("pip", []))
        else:
            conda.append(str(entry))
    return conda, pip


def conda_requirement(spec: str) -> Requirement:
    """A conda match spec as a PEP 508 requirement: `python=3.12` means `python==3.12.*`."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*=\s*([0-9][0-9A-Za-z.]*)\s*", spec)
    if match:  # conda's single '=' is a prefix match
        return Requirement(f"{match[1]}=={match[2]}.*")
    return Requirement(spec)


def environment_packages(env: dict) -> list[Requirement]:
    """environment.yml's conda packages, without python and pip."""
    conda, _ = conda_and_pip_entries(env)
    reqs = [conda_requirement(spec) for spec in conda]
    return [r for r in reqs if canonicalize_name(r.name) not in CONDA_TOOLING]


# --- comparing (pure functions of in-memory lists) -------------------------------------------


def by_name(requirements: list[str] | list[Requirement]) -> dict[str, Requirement]:
    """Requirements keyed by their PEP 503 normalized name."""
    parsed = [r if isinstance(r, Requirement) else Requirement(r) for r in requirements]
    return {canonicalize_name(r.name): r for r in parsed}


def name_drift(declared: list, listed: list) -> dict[str, set[str]]:
    """Names in `declared` that `listed` lacks ("missing"), and names it adds ("extra")."""
    want, have = set(by_name(declared)), set(by_name(listed))
    return {"missing": want - have, "extra": have - want}


def unpinned(lines: list[str]) -> list[str]:
    """Lines that do not pin exactly one version with ==."""
    bad = []
    for line in lines:
        try:
            specs = list(Requirement(line).specifier)
        except InvalidRequirement:
            bad.append(line)
            continue
        if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
            bad.append(line)
    return bad


def pinned_version(req: Requirement) -> Version:
    (spec,) = list(req.specifier)
    return Version(spec.version)


def pins_outside_range(declared: list[str], pins: list[str]) -> dict[str, str]:
    """Packages whose == pin does not satisfy the declared specifier: name -> explanation."""
    wanted, pinned = by_name(declared), by_name(pins)
    bad = {}
    for name in wanted.keys() & pinned.keys():
        version = pinned_version(pinned[name])
        if not wanted[name].specifier.contains(version, prereleases=True):
            bad[name] = f"{version} is outside {wanted[name].specifier}"
    return bad


def lower_bound(specifier: SpecifierSet) -> Version | None:
    bounds = [Version(s.version) for s in specifier if s.operator in (">=", "~=", "==")]
    return max(bounds) if bounds else None


def lower_bound_drift(declared: list, listed: list) -> dict[str, tuple]:
    """Packages whose lower bound differs: name -> (declared bound, listed bound)."""
    wanted, have = by_name(declared), by_name(listed)
    drift = {}
    for name in wanted.keys() & have.keys():
        a, b = lower_bound(wanted[name].specifier), lower_bound(have[name].specifier)
        if a != b:
            drift[name] = (a, b)
    return drift


def installs_project(script: str) -> bool:
    """Does this shell script pip-install the repository itself (`pip install ... .`)?"""
    for raw in script.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = shlex.split(line)
        if "pip" in words and "install" in words:
            after = words[words.index("install") + 1 :]
            targets = [w for w in after if not w.startswith("-")]
            if "." in targets or "./" in targets:
                return True
    return False


# --- the repository's files -------------------------------------------------------------------


def test_binder_names_exactly_the_project_dependencies():
    assert name_drift(project_dependencies(), binder_requirements()) == {"missing": set(), "extra": set()}


def test_binder_pins_every_line_with_double_equals():
    assert unpinned(binder_requirements()) == []


def test_binder_pins_satisfy_pyproject():
    assert pins_outside_range(project_dependencies(), binder_requirements()) == {}


def test_binder_runtime_is_python_312_within_requires_python():
    text = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    assert text == "python-3.12"
    version = Version(text.removeprefix("python-"))
    requires = SpecifierSet(pyproject()["project"]["requires-python"])
    assert requires.contains(version)
    assert version >= Version("3.11")


def test_binder_postbuild_installs_the_project():
    post_build = BINDER / "postBuild"
    text = post_build.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/bash") or text.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in text
    assert installs_project(text)
    assert "--no-deps" in text  # the pinned requirements.txt owns the dependencies
    assert post_build.stat().st_mode & 0o111, "binder/postBuild must be executable"


def test_environment_names_exactly_the_project_dependencies():
    env = environment()
    assert env["name"] == "wstutorial"
    assert env["channels"] == ["conda-forge"]
    assert name_drift(project_dependencies(), environment_packages(env)) == {"missing": set(), "extra": set()}


def test_environment_lower_bounds_equal_pyproject():
    assert lower_bound_drift(project_dependencies(), environment_packages(environment())) == {}


def test_environment_python_satisfies_requires_python():
    conda, _ = conda_and_pip_entries(environment())
    pythons = [conda_requirement(s) for s in conda if canonicalize_name(conda_requirement(s).name) == "python"]
    assert len(pythons) == 1
    (spec,) = list(pythons[0].specifier)
    version = Version(spec.version.removesuffix(".*"))
    assert SpecifierSet(pyproject()["project"]["requires-python"]).contains(version)


def test_environment_installs_pip_and_the_project():
    conda, pip = conda_and_pip_entries(environment())
    assert "pip" in conda
    assert pip == ["-e ."]


# --- tests of the tests: the helpers catch drift ----------------------------------------------

DECLARED = ["websockets>=17", "ipywidgets>=8.1", "Jupyter_Lab>=4.4"]


def test_helpers_accept_matching_lists_with_normalized_names():
    pins = ["websockets==17.4", "IPyWidgets==8.1.9", "jupyter-lab==4.6.6"]
    assert name_drift(DECLARED, pins) == {"missing": set(), "extra": set()}
    assert unpinned(pins) == []
    assert pins_outside_range(DECLARED, pins) == {}


def test_helpers_report_a_missing_package():
    pins = ["websockets==17.4", "ipywidgets==8.1.9"]
    assert name_drift(DECLARED, pins) == {"missing": {"jupyter-lab"}, "extra": set()}


def test_helpers_report_an_extra_package():
    pins = ["websockets==17.4", "ipywidgets==8.1.9", "jupyter-lab==4.6.6", "requests==2.32.3"]
    assert name_drift(DECLARED, pins) == {"missing": set(), "extra": {"requests"}}


def test_helpers_report_a_pin_below_the_lower_bound():
    pins = ["websockets==16.1", "ipywidgets==8.1.9", "jupyter-lab==4.6.6"]
    assert pins_outside_range(DECLARED, pins) == {"websockets": "16.1 is outside >=17"}


@pytest.mark.parametrize("line", ["websockets>=17", "websockets", "websockets==17.*", "websockets~=17.4"])
def test_helpers_report_an_unpinned_line(line):
    assert unpinned([line]) == [line]


def test_helpers_report_a_lower_bound_that_differs():
    listed = [Requirement("websockets>=16"), Requirement("ipywidgets>=8.1"), Requirement("jupyter-lab")]
    assert lower_bound_drift(DECLARED, listed) == {
        "websockets": (Version("17"), Version("16")),
        "jupyter-lab": (Version("4.4"), None),
    }


def test_helpers_read_environment_yml_shapes():
    env = yaml.safe_load(
        "dependencies:\n  - python=3.10\n  - pip\n  - websockets>=17\n  - pip:\n      - -e .\n"
    )
    assert [str(r) for r in environment_packages(env)] == ["websockets>=17"]
    conda, pip = conda_and_pip_entries(env)
    python = conda_requirement(conda[0])
    assert not SpecifierSet(">=3.11").contains(Version(list(python.specifier)[0].version.removesuffix(".*")))
    assert pip == ["-e ."]


def test_helpers_read_requirements_txt_comments_and_blanks():
    text = "# pinned\n\nwebsockets==17.4  # server\n"
    assert requirement_lines(text) == ["websockets==17.4"]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("set -e\npython -m pip install --no-deps .\n", True),
        ("pip install -e .\n", True),
        ("# python -m pip install .\necho hi\n", False),
        ("python -m pip install --no-deps wstutorial\n", False),
    ],
)
def test_helpers_detect_a_project_install(script, expected):
    assert installs_project(script) is expected
