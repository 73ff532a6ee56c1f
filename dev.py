#!/usr/bin/env python3
"""The project's commands. Each sets up what it needs on a fresh machine, the first time.

    python3 dev.py lab          open the lessons in JupyterLab
    python3 dev.py test         run the whole test suite (unit tests, nbval, parity, Run All)
    python3 dev.py regenerate   re-run the lessons and store their outputs (what nbval compares)
    python3 dev.py bench        print the benchmark figures

The first run makes a virtual environment in .venv and installs the project into it; later runs
reinstall only when pyproject.toml has changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
STAMP = VENV / "wstutorial-installed"
PYTHONS = ("python3.13", "python3.12", "python3.11", "python3")


def find_python() -> str:
    """A Python 3.11 or newer: this one, or the first one on PATH."""
    if sys.version_info >= (3, 11):
        return sys.executable
    for name in PYTHONS:
        path = shutil.which(name)
        if path and subprocess.run(
            [path, "-c", "import sys; sys.exit(sys.version_info < (3, 11))"]
        ).returncode == 0:
            return path
    sys.exit("wstutorial needs Python 3.11 or newer (websockets 17 does). Install one, then run this again.")


def venv_is_incomplete(python: Path = VENV_PYTHON, stamp: Path = STAMP) -> bool:
    """A first run that stopped half-way leaves a .venv without pip, which every later run would reuse."""
    if not python.exists() or stamp.exists():
        return False
    return subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True).returncode != 0


def ensure_venv() -> None:
    if venv_is_incomplete():
        print(f"{VENV} is incomplete (an earlier set-up stopped half-way): making it again.", flush=True)
        shutil.rmtree(VENV)
    if not VENV_PYTHON.exists():
        print(f"Creating the virtual environment in {VENV} ...", flush=True)
        if subprocess.run([find_python(), "-m", "venv", str(VENV)]).returncode != 0:
            shutil.rmtree(VENV, ignore_errors=True)
            sys.exit("Could not create a virtual environment. On Debian or Ubuntu: sudo apt install python3-venv")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("Installing wstutorial and its dependencies into .venv ...", flush=True)
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test,bench]"], check=True)
    STAMP.write_text(wanted)


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def main(argv: list[str]) -> int:
    commands = {"lab": lab, "test": test, "regenerate": regenerate, "bench": bench}
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 2
    if not in_venv():
        ensure_venv()
        # Become the venv's Python (same process): stopping this command stops what it started.
        os.chdir(ROOT)
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), __file__, *argv])
    return commands[argv[0]](argv[1:])


def lab(args: list[str]) -> int:
    command = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={ROOT / 'notebooks'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI machines often run as root
    os.execv(sys.executable, [*command, *args])


def test(args: list[str]) -> int:
    return subprocess.call([sys.executable, "-m", "pytest", *args], cwd=ROOT)


def regenerate(args: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from tools.notebooks import lesson_paths, regenerate_outputs

    for path in [Path(a).resolve() for a in args] or lesson_paths():
        print(f"regenerating {path.relative_to(ROOT)}", flush=True)
        regenerate_outputs(path)
    return 0


def bench(args: list[str]) -> int:
    """Every benchmark in turn; or one by name (`bench servers`, `bench foundation`) with its options.

    Notebook paths alone (`bench x.ipynb ...`) go to foundation.py, which times their Run All.
    """
    scripts = {name: ROOT / "benchmarks" / f"{name}.py" for name in ("servers", "foundation")}
    if args and args[0] in scripts:
        return subprocess.call([sys.executable, str(scripts[args[0]]), *args[1:]], cwd=ROOT)
    if args:
        return subprocess.call([sys.executable, str(scripts["foundation"]), *args], cwd=ROOT)
    status = 0
    for script in scripts.values():
        status = subprocess.call([sys.executable, str(script)], cwd=ROOT) or status
        print(flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
