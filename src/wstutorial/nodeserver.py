"""The article's own Node.js server (``node/article-server.js`` with the ``ws`` package), run for real.

Lessons and tests use it to show that Python clients talk to the article's server unchanged, to
benchmark against it, and to show what happens to a server with no error handling. Node.js is
optional: `node_missing()` says why it cannot run, so callers can skip with that reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

SCRIPT = Path(__file__).parent / "node" / "article-server.js"
PACKAGE_JSON = Path(__file__).parent / "node" / "package.json"
START_TIMEOUT = 10.0


def node_missing() -> str | None:
    """Why the article's server cannot run here (no node or npm), or None when it can."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed: install Node.js (https://nodejs.org) to run the article's server"
    return None


def install_folder() -> Path:
    """Where `ws` is installed: $WSTUTORIAL_NODE_DIR, else a per-user cache (the package may be read-only)."""
    default = Path.home() / ".cache" / "wstutorial" / "node"
    return Path(os.environ.get("WSTUTORIAL_NODE_DIR", default))


def install_ws(folder: Path | None = None) -> Path:
    """npm-install the pinned `ws` into `folder` once; return its node_modules."""
    folder = folder or install_folder()
    modules = folder / "node_modules"
    wanted = PACKAGE_JSON.read_text(encoding="utf-8")
    if (modules / "ws" / "package.json").exists() and (folder / "package.json").read_text(encoding="utf-8") == wanted:
        return modules
    if reason := node_missing():
        raise RuntimeError(reason)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(wanted, encoding="utf-8")
    result = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"npm install in {folder} failed:\n{result.stderr.strip()}")
    return modules


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class ArticleNodeServer:
    """``node article-server.js`` on a free loopback port; its console output is kept in `.output`.

    Use it as a context manager, or call `start()` and `stop()`. `.url` is its ws:// address,
    `.running` says whether the process is still alive (lesson 07 crashes it on purpose).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.output: list[str] = []  # what the server printed, read by a thread that never prints
        self._process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def start(self) -> ArticleNodeServer:
        modules = install_ws()
        self.port = self.port or free_port(self.host)
        env = {**os.environ, "PORT": str(self.port), "HOST": self.host, "NODE_PATH": str(modules)}
        self._process = subprocess.Popen(
            ["node", str(SCRIPT)], env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        threading.Thread(target=self._collect_output, daemon=True, name="article-server-output").start()
        self._wait_listening()
        return self

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> ArticleNodeServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else f"exited ({self.returncode})"
        return f"<ArticleNodeServer {self.url} {state}>"

    def _collect_output(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            self.output.append(line.rstrip("\n"))

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError("the article's server exited at start:\n" + "\n".join(self.output))
            try:
                socket.create_connection((self.host, self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the article's server did not listen on port {self.port} within {START_TIMEOUT} s")
