"""wstutorial.nodeserver: the article's Node.js server runs, or says in the learner's language why not.

npm's failures are produced with a fake `npm` script on PATH (the real node stays beside it): one that
exits with an error as npm does offline, one that hangs as npm does when its registry never answers.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

from helpers import wait_until
from wstutorial import set_language
from wstutorial.nodeserver import ArticleNodeServer, NodeServerError, install_ws, node_missing

NODE = shutil.which("node")
SLEEP = shutil.which("sleep") or "/bin/sleep"
NPM_OFFLINE = "npm error code ENOTFOUND\nnpm error request to https://registry.npmjs.org/ws failed"


@pytest.fixture
def path_without_node(tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("WSTUTORIAL_NODE_DIR", str(tmp_path / "node"))  # nothing installed there


@pytest.fixture
def fake_npm(tmp_path, monkeypatch):
    """Put an `npm` running `script` (sh) on PATH, next to the real node; returns a fresh install folder."""
    if NODE is None:
        pytest.skip("node is not installed")
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    (bin_folder / "node").symlink_to(NODE)
    monkeypatch.setenv("PATH", str(bin_folder))

    def install(script: str) -> Path:
        npm = bin_folder / "npm"
        npm.write_text("#!/bin/sh\n" + script, encoding="utf-8")
        npm.chmod(0o755)
        return tmp_path / "node"

    return install


def test_without_node_the_reason_says_to_install_it_in_english_and_indonesian(path_without_node):
    assert node_missing("en") == (
        "node is not installed: install Node.js with npm (https://nodejs.org, or"
        " `sudo apt install nodejs npm` on Debian/Ubuntu), then run this again."
    )
    assert node_missing("id").startswith("node belum terpasang: pasang Node.js beserta npm (https://nodejs.org")
    with pytest.raises(NodeServerError, match="node belum terpasang"):
        ArticleNodeServer(lang="id").start()


def test_without_node_the_reason_follows_the_lessons_language(path_without_node, english):
    set_language("id")  # as lesson 07's Indonesian notebook does before it calls node_missing()
    assert node_missing().startswith("node belum terpasang")


def test_without_npm_the_reason_names_npm(fake_npm, tmp_path):
    fake_npm("exit 0")
    (tmp_path / "bin" / "npm").unlink()
    assert node_missing("en").startswith("npm is not installed")


def test_a_failing_npm_install_names_the_registry_and_keeps_what_npm_said(fake_npm):
    folder = fake_npm(f"echo '{NPM_OFFLINE}' >&2\nexit 1\n")
    with pytest.raises(NodeServerError) as failure:
        install_ws(folder, lang="en")
    message = str(failure.value)
    assert message.startswith(f"npm could not install ws into {folder} (exit code 1): usually its registry")
    assert NPM_OFFLINE in message
    assert not (folder / "package.json").exists()  # so the next call installs again

    with pytest.raises(NodeServerError, match="Kata npm:\nnpm error code ENOTFOUND"):
        install_ws(folder, lang="id")


def test_an_npm_that_never_answers_is_stopped_with_everything_it_started(fake_npm, tmp_path):
    child = tmp_path / "child.pid"
    folder = fake_npm(f"echo 'fetching ws'\n{SLEEP} 60 &\necho $! > {child}\nwait\n")
    started = time.monotonic()
    with pytest.raises(NodeServerError) as failure:
        install_ws(folder, timeout=1, lang="en")
    assert time.monotonic() - started < 10
    message = str(failure.value)
    assert message.startswith("npm could not install ws within 1 s: it is most likely waiting for its registry")
    assert message.endswith("npm's last output:\nfetching ws")
    assert not (folder / "package.json").exists()
    if sys.platform == "linux":  # the sleep npm started went too, not only npm
        assert wait_until(lambda: not is_alive(int(child.read_text())), timeout=5)

    with pytest.raises(NodeServerError, match="npm tidak berhasil memasang ws dalam 0.5 detik"):
        install_ws(folder, timeout=0.5, lang="id")


def test_ws_installed_once_is_not_installed_again(fake_npm):
    folder = fake_npm("exit 1\n")  # any npm call would fail
    (folder / "node_modules" / "ws").mkdir(parents=True)
    (folder / "node_modules" / "ws" / "package.json").write_text("{}", encoding="utf-8")
    (folder / "package.json").write_text(
        (Path(__file__).parent.parent / "src" / "wstutorial" / "node" / "package.json").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    assert install_ws(folder) == folder / "node_modules"


def test_the_articles_server_answers_and_keeps_what_it_printed():
    if reason := node_missing():
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI has Node.js: .ci/run installs it)")
        pytest.skip(reason)
    with ArticleNodeServer() as article:
        assert article.running and article.url == f"ws://127.0.0.1:{article.port}"
        with connect(article.url) as client:
            client.send("hi")
            assert client.recv(timeout=5) == "Server: hi"
        assert wait_until(lambda: len(article.output) >= 3)
        assert article.output[:3] == [
            f"WebSocket server is running on ws://localhost:{article.port}",
            "Client connected",
            "Received: hi",
        ]
    assert not article.running


def is_alive(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie waiting to be reaped has stopped)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status
