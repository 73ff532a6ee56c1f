"""The README's lab command opens JupyterLab on the lessons."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(
    Path(sys.prefix).resolve() != (ROOT / ".venv").resolve(),
    reason="dev.py runs the lessons from the project's .venv; this Python is another environment",
)
def test_lab_command_serves_the_lessons_in_both_languages(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = "wstutorial-test"
    lab = subprocess.Popen(
        [sys.executable, str(ROOT / "dev.py"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--LabApp.workspaces_dir={tmp_path}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        listings = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(listings) < 2:
            try:
                for language in ("en", "id"):
                    url = f"http://127.0.0.1:{port}/api/contents/{language}?token={token}"
                    with urllib.request.urlopen(url, timeout=5) as response:
                        listings[language] = {item["name"] for item in json.load(response)["content"]}
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=5) as page:
                    assert page.status == 200
            except OSError:
                assert lab.poll() is None, "the lab command exited"
                time.sleep(0.3)
        for language in ("en", "id"):
            assert "01-real-time-communication-with-websocket.ipynb" in listings[language]
    finally:
        lab.terminate()
        lab.wait(20)
    # dev.py becomes JupyterLab rather than starting a child: nothing outlives it.
    assert not [line for line in _processes() if f"--port={port}" in line]


def _processes() -> list[str]:
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return listing.splitlines()


def test_a_half_made_venv_is_recognised_so_the_next_run_rebuilds_it(tmp_path):
    sys.path.insert(0, str(ROOT))
    try:
        import dev
    finally:
        sys.path.remove(str(ROOT))
    half_made = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(half_made)], check=True)
    python = half_made / "bin" / "python"
    assert dev.venv_is_incomplete(python, tmp_path / "no-stamp")
    assert not dev.venv_is_incomplete(Path(sys.executable), tmp_path / "no-stamp")  # this one has pip
