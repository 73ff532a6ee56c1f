"""The article's own Node.js server (``node/article-server.js`` with the ``ws`` package), run for real.

Lessons and tests use it to show that Python clients talk to the article's server unchanged, to
benchmark against it, and to show what happens to a server with no error handling. Node.js is
optional: `node_missing()` says why it cannot run, in the learner's language, so callers can skip
with that reason. ``ws`` is npm-installed once into a per-user folder; that install has a time limit,
because npm on a machine that cannot reach its registry would otherwise wait for minutes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from .i18n import add_messages, t

SCRIPT = Path(__file__).parent / "node" / "article-server.js"
PACKAGE_JSON = Path(__file__).parent / "node" / "package.json"
START_TIMEOUT = 10.0
NPM_TIMEOUT = 120.0  # one `npm install ws` on a slow network takes seconds; offline, npm retries for minutes
NPM_OUTPUT_LINES = 15  # the end of npm's output kept in an error: where npm says what went wrong


class NodeServerError(RuntimeError):
    """The article's server cannot run: node or npm is missing, `ws` did not install, or node failed."""


def node_missing(lang: str | None = None) -> str | None:
    """Why the article's server cannot run here (no node or npm), or None when it can."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            return t("node_tool_missing", lang, tool=tool)
    return None


def install_folder() -> Path:
    """Where `ws` is installed: $WSTUTORIAL_NODE_DIR, else a per-user cache (the package may be read-only)."""
    default = Path.home() / ".cache" / "wstutorial" / "node"
    return Path(os.environ.get("WSTUTORIAL_NODE_DIR", default))


def install_ws(folder: Path | None = None, *, timeout: float = NPM_TIMEOUT, lang: str | None = None) -> Path:
    """npm-install the pinned `ws` into `folder` once; return its node_modules.

    npm gets `timeout` seconds; after that it is stopped (with anything it started) and the error
    says the registry is likely out of reach. A failed install leaves no package.json behind, so
    the next call tries again instead of trusting a half-written node_modules.
    """
    folder = Path(folder or install_folder())
    modules = folder / "node_modules"
    wanted = PACKAGE_JSON.read_text(encoding="utf-8")
    if (modules / "ws" / "package.json").exists() and _read(folder / "package.json") == wanted:
        return modules
    if reason := node_missing(lang):
        raise NodeServerError(reason)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(wanted, encoding="utf-8")
    try:
        returncode, output = _npm_install(folder, timeout)
    except subprocess.TimeoutExpired as expired:
        (folder / "package.json").unlink(missing_ok=True)
        raise NodeServerError(
            t("node_npm_timeout", lang, folder=folder, timeout=timeout, output=_tail(expired.output))
        ) from None
    if returncode != 0:
        (folder / "package.json").unlink(missing_ok=True)
        raise NodeServerError(t("node_npm_failed", lang, folder=folder, code=returncode, output=_tail(output)))
    return modules


def _npm_install(folder: Path, timeout: float) -> tuple[int, str]:
    """Run `npm install` in `folder`, its own process group, so that a timeout stops all of it."""
    process = subprocess.Popen(
        [shutil.which("npm") or "npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder, text=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        if hasattr(os, "killpg"):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.kill()
        output, _ = process.communicate()
        raise subprocess.TimeoutExpired(process.args, timeout, output=output) from None
    return process.returncode, output


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def _tail(output: str | bytes | None) -> str:
    if isinstance(output, bytes):
        output = output.decode(errors="replace")
    lines = (output or "").strip().splitlines()[-NPM_OUTPUT_LINES:]
    return "\n".join(lines) if lines else "-"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class ArticleNodeServer:
    """``node article-server.js`` on a free loopback port; its console output is kept in `.output`.

    Use it as a context manager, or call `start()` and `stop()`. `.url` is its ws:// address,
    `.running` says whether the process is still alive (lesson 07 crashes it on purpose). Errors
    come in `lang` (default: the language chosen with `set_language`).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, lang: str | None = None) -> None:
        self.host = host
        self.port = port
        self.lang = lang
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
        modules = install_ws(lang=self.lang)
        node = shutil.which("node")
        if node is None:  # `ws` was installed earlier, but node has gone from PATH since
            raise NodeServerError(t("node_tool_missing", self.lang, tool="node"))
        self.port = self.port or free_port(self.host)
        env = {**os.environ, "PORT": str(self.port), "HOST": self.host, "NODE_PATH": str(modules)}
        self._process = subprocess.Popen(
            [node, str(SCRIPT)], env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        threading.Thread(target=self._collect_output, daemon=True, name="article-server-output").start()
        self._wait_listening(modules.parent)
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

    def _wait_listening(self, folder: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.running:
                time.sleep(0.1)  # let the reader thread take node's last words
                raise NodeServerError(t("node_exited_at_start", self.lang, code=self.returncode, folder=folder,
                                        output="\n".join(self.output) or "-"))
            try:
                socket.create_connection((self.host, self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise NodeServerError(t("node_not_listening", self.lang, port=self.port, timeout=START_TIMEOUT))


add_messages(
    {
        "node_tool_missing": {
            "en": "{tool} is not installed: install Node.js with npm (https://nodejs.org, or"
            " `sudo apt install nodejs npm` on Debian/Ubuntu), then run this again.",
            "id": "{tool} belum terpasang: pasang Node.js beserta npm (https://nodejs.org, atau"
            " `sudo apt install nodejs npm` di Debian/Ubuntu), lalu jalankan lagi.",
        },
        "node_npm_timeout": {
            "en": "npm could not install ws within {timeout:g} s: it is most likely waiting for its registry"
            " (`npm config get registry`), which this machine cannot reach. Check the network or the proxy"
            " (HTTPS_PROXY), or install ws once by hand: cd {folder} && npm install. Then run this again."
            "\nnpm's last output:\n{output}",
            "id": "npm tidak berhasil memasang ws dalam {timeout:g} detik: kemungkinan besar ia masih menunggu"
            " registry-nya (`npm config get registry`), yang tidak bisa dijangkau mesin ini. Periksa jaringan"
            " atau proxy (HTTPS_PROXY), atau pasang ws sekali secara manual: cd {folder} && npm install."
            " Lalu jalankan lagi.\nKeluaran terakhir npm:\n{output}",
        },
        "node_npm_failed": {
            "en": "npm could not install ws into {folder} (exit code {code}): usually its registry"
            " (`npm config get registry`) is out of reach. Check the network or the proxy (HTTPS_PROXY)"
            " and what npm said below, then run this again.\nnpm said:\n{output}",
            "id": "npm tidak berhasil memasang ws ke {folder} (kode keluar {code}): biasanya registry-nya"
            " (`npm config get registry`) tidak terjangkau. Periksa jaringan atau proxy (HTTPS_PROXY)"
            " dan pesan npm di bawah, lalu jalankan lagi.\nKata npm:\n{output}",
        },
        "node_exited_at_start": {
            "en": "the article's server stopped as it started (exit code {code}). If node's output below"
            " mentions 'ws', the install in {folder} is broken: delete that folder and run this again."
            "\nnode said:\n{output}",
            "id": "server dari artikel berhenti begitu dijalankan (kode keluar {code}). Jika keluaran node di"
            " bawah menyebut 'ws', pemasangan di {folder} rusak: hapus folder itu lalu jalankan lagi."
            "\nKata node:\n{output}",
        },
        "node_not_listening": {
            "en": "the article's server did not listen on port {port} within {timeout:g} s, so it was stopped."
            " The machine may be very busy: run this again.",
            "id": "server dari artikel tidak mendengarkan di port {port} dalam {timeout:g} detik, jadi"
            " dihentikan. Mungkin mesin sedang sangat sibuk: jalankan lagi.",
        },
    }
)
