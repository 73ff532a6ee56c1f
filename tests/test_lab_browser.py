"""Lesson 01 in real JupyterLab, in a real browser: Run All, then chat through the rendered widget.

nbval only compares the outputs a kernel produces; it cannot see whether the widget renders and
answers in the browser. Here JupyterLab runs on loopback with a token, headless Chromium opens
lesson 01 in each language, runs all cells from the Run menu, types into the widget's text box,
presses Send (and then Enter), and waits for the server's echo in the rendered widget.
Screenshots go to test-artifacts/. The notebooks are copied to a temporary folder first, so
JupyterLab's autosave never touches the committed ones, and every Jupyter and IPython folder
points into that temporary folder too.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from browser import ARTIFACTS, chromium_page, require_chromium, screenshot

ROOT = Path(__file__).resolve().parent.parent
LESSON = "01-real-time-communication-with-websocket.ipynb"
START_TIMEOUT = 90  # JupyterLab's first start on a busy 2-core machine
KERNEL_TIMEOUT = 60_000  # ms, for Playwright: a kernel start or Run All on that machine
ECHO_TIMEOUT = 30_000  # ms
# What the widget says, in the lesson's language (wstutorial.i18n: placeholder, send, message, connected).
WIDGET_TEXT = {
    "en": {
        "placeholder": "Type your message...", "send": "Send", "message": "Message: {text}",
        "connected": "Connected to WebSocket server ws://127.0.0.1:",
    },
    "id": {
        "placeholder": "Ketik pesan...", "send": "Kirim", "message": "Pesan: {text}",
        "connected": "Terhubung ke server WebSocket ws://127.0.0.1:",
    },
}
# Every cell visible in the page (no virtual scrolling), and no news pop-up over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False,
    },
}
IDLE_NOTEBOOK = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
IDLE_STATUS = re.compile(r"\| Idle$")  # the status bar: "Python 3 (ipykernel) | Idle"
TRACEBACK = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the server is on loopback


class Lab:
    """A JupyterLab server started by the `lab` fixture: its address, token and REST API."""

    def __init__(self, port: int, token: str, process: subprocess.Popen, log: Path) -> None:
        self.port = port
        self.token = token
        self.process = process
        self.log = log

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(self.url(f"api/{path}"), method=method)
        with NO_PROXY.open(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])

    def wait_for_connected_kernel(self) -> None:
        """Until a kernel has started, is idle, and a page is connected to it."""
        deadline = time.monotonic() + KERNEL_TIMEOUT / 1000
        def ready(kernel: dict) -> bool:
            return kernel["execution_state"] == "idle" and kernel["connections"] > 0

        while not any(ready(kernel) for kernel in self.kernels()):
            assert time.monotonic() < deadline, f"no kernel became ready:\n{self.log_tail()}"
            time.sleep(0.2)

    def kernels(self) -> list[dict]:
        # Jupyter Server answers 500 while a kernel is half-started (it has no last_activity yet).
        deadline = time.monotonic() + 10
        while True:
            try:
                return self.api("kernels")
            except urllib.error.HTTPError as error:
                if error.code != 500 or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def shut_down_kernels(self) -> None:
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")
        for kernel in self.kernels():
            self.api(f"kernels/{kernel['id']}", method="DELETE")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a token, serving a copy of notebooks/; always stopped."""
    require_chromium()  # no JupyterLab start when the browser tests cannot run anyway
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"
    copy_lessons(root)
    settings = home / "settings"
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}", f"--LabApp.user_settings_dir={settings}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI runs as root
    log = home / "jupyterlab.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=home)
    server = Lab(port, token, process, log)
    try:
        wait_for_status(server)
        yield server
    finally:
        try:
            if process.poll() is None:
                server.shut_down_kernels()
        except OSError:
            pass
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # Kernels get their connection file from the runtime folder: none may outlive the server.
    leftovers = processes_mentioning(str(home / "runtime"))
    for pid in leftovers:
        os.kill(pid, 9)
    assert not leftovers, f"kernel processes outlived JupyterLab: {leftovers}"


@pytest.mark.parametrize("lang", ["en", "id"])
def test_run_all_then_chat_through_the_rendered_widget(lab, lang):
    words = WIDGET_TEXT[lang]
    (ARTIFACTS / f"lab-01-{lang}-failed.png").unlink(missing_ok=True)  # from an earlier run
    with chromium_page({"width": 1280, "height": 1000}) as page:
        try:
            page.goto(lab.url(f"lab/workspaces/test-{lang}/tree/{lang}/{LESSON}"))  # a workspace of its own
            # The page says "idle" before its kernel is attached; Run All then would ask which kernel.
            lab.wait_for_connected_kernel()
            page.locator(IDLE_NOTEBOOK).wait_for(timeout=KERNEL_TIMEOUT)
            page.locator(".jp-StatusBar-TextItem", has_text=IDLE_STATUS).wait_for(timeout=KERNEL_TIMEOUT)

            page.locator("li.lm-MenuBar-item", has_text="Run").click()
            page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
            # The copy has no outputs and no execution counts: a number in every prompt means
            # every cell has run, and the widget on the page came from this run.
            wait_for_run_all(page)

            chat = page.locator(".widget-vbox", has=page.get_by_placeholder(words["placeholder"])).first
            box = chat.get_by_placeholder(words["placeholder"])
            box.scroll_into_view_if_needed()
            chat.get_by_text(words["connected"]).wait_for(timeout=ECHO_TIMEOUT)

            typed = f"typed in the browser ({lang})"
            box.fill(typed)
            chat.get_by_role("button", name=words["send"], exact=True).click()
            echo = chat.get_by_text(words["message"].format(text=f"Server: {typed}"), exact=True)
            echo.wait_for(timeout=ECHO_TIMEOUT)
            wait_for_value(box, "")  # the box is cleared once the message is sent, as on the article's page
            screenshot(page, f"lab-01-{lang}")

            entered = f"sent with Enter ({lang})"
            box.fill(entered)
            box.press("Enter")
            chat.get_by_text(words["message"].format(text=f"Server: {entered}"), exact=True).wait_for(
                timeout=ECHO_TIMEOUT
            )
            wait_for_value(box, "")
            screenshot(page, f"lab-01-{lang}-enter")
        except Exception:
            screenshot(page, f"lab-01-{lang}-failed")
            raise
        finally:
            lab.shut_down_kernels()
    assert lab.kernels() == []
    assert lab.process.poll() is None, lab.log_tail()


ALL_CELLS_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
    return prompts.length > 0 && prompts.every(prompt => /\\[\\d+\\]/.test(prompt.textContent));
}"""


def wait_for_run_all(page) -> None:
    """Until every code cell has run, or one failed; says which cells did not run."""
    try:
        page.wait_for_function(f"() => ({ALL_CELLS_RAN})() || document.querySelector({TRACEBACK!r})",
                               timeout=KERNEL_TIMEOUT)
    except Exception as timeout:
        pending = page.evaluate(NOT_RUN)
        raise AssertionError(f"Run All did not finish; cells not run: {pending}") from timeout
    assert not page.locator(TRACEBACK).count(), page.locator(TRACEBACK).first.inner_text()


NOT_RUN = """() => [...document.querySelectorAll('.jp-CodeCell')]
    .filter(cell => !/\\[\\d+\\]/.test(cell.querySelector('.jp-InputPrompt').textContent))
    .map(cell => cell.querySelector('.jp-InputPrompt').textContent + ' '
        + cell.querySelector('.jp-InputArea-editor').textContent.slice(0, 60))"""


def wait_for_value(box, value: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while box.input_value() != value:
        assert time.monotonic() < deadline, f"the text box still holds {box.input_value()!r}"
        time.sleep(0.05)


def copy_lessons(root: Path) -> None:
    """notebooks/, lesson 01 without outputs or execution counts: all the test sees is from its own run."""
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for path in root.glob(f"*/{LESSON}"):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(notebook, path)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_status(lab: Lab) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            lab.api("status")
            return
        except (OSError, urllib.error.URLError):
            if lab.process.poll() is not None:
                pytest.fail(f"JupyterLab exited ({lab.process.returncode}):\n{lab.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {START_TIMEOUT} s:\n{lab.log_tail()}")
            time.sleep(0.2)


def processes_mentioning(text: str) -> list[int]:
    """Processes whose command line contains `text` (read from /proc: Linux, where CI runs)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:  # it ended meanwhile
            pass
    return found

