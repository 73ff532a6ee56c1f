"""A real JupyterLab for the browser tests: started in a temporary home, stopped, and checked.

test_lab_browser.py (every lesson; lesson 01's chat) and test_page_browser.py (jupyter-server-proxy,
and lesson 04 under a hub-like base URL) drive the same kind of server: JupyterLab on 127.0.0.1 with a
token, serving a copy of notebooks/ (autosave never touches the committed lessons) in which the lesson
under test has no outputs (all the page shows comes from the test's own run), every Jupyter and IPython
folder inside the temporary home, and no kernel process alive once it has stopped. Here too: what a
person does in the page -- open a notebook once its kernel is ready, Run All, wait until every cell has
run and none failed -- and what the page then shows: widgets and plots drawn, no widget that failed.
"""

from __future__ import annotations

import contextlib
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
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from tests.browser import ARTIFACTS, chromium_page, screenshot

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
START_TIMEOUT = 90  # s: JupyterLab's first start on a busy 2-core machine
# Every cell rendered (no virtual scrolling), and no news pop-up over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False,
    },
}
WIDGET = "application/vnd.jupyter.widget-view+json"
# Where the page shows an output of a MIME type: a widget's view goes into its output's panel
# (ipywidgets marks it jupyter-widgets; the panel has no data-mime-type), a picture is marked.
SHOWN_AS = {WIDGET: ".jp-OutputArea-output > .jupyter-widgets", "image/png": '[data-mime-type="image/png"]'}
# Outputs the page shows, and how many of them have a visible size (and, for a picture, a decoded
# image): an output that did not render takes no room.
RENDERED = """selector => {
    const outputs = [...document.querySelectorAll(`.jp-OutputArea ${selector}`)];
    const shown = outputs.filter(output => output.offsetHeight > 0 && output.offsetWidth > 0
        && [...output.querySelectorAll('img')].every(img => img.complete && img.naturalWidth > 0));
    return [outputs.length, shown.length];
}"""
# What JupyterLab's widget manager writes in place of a widget it could not render.
WIDGET_FAILURES = ("Error displaying widget", "Failed to load model", "[object Object]")
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the server is on loopback
IDLE_NOTEBOOK = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
IDLE_STATUS = re.compile(r"\| Idle$")  # the status bar: "Python 3 (ipykernel) | Idle"
# The copy has no execution counts: a number in every prompt means this run reached every cell.
ALL_CELLS_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
    return prompts.length > 0 && prompts.every(prompt => /\\[\\d+\\]/.test(prompt.textContent));
}"""
NONE_RAN = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .every(prompt => !/\\[\\d+\\]/.test(prompt.textContent))"""
NOT_RUN = """() => [...document.querySelectorAll('.jp-CodeCell')]
    .filter(cell => !/\\[\\d+\\]/.test(cell.querySelector('.jp-InputPrompt').textContent))
    .map(cell => cell.querySelector('.jp-InputPrompt').textContent + ' '
        + cell.querySelector('.jp-InputArea-editor').textContent.slice(0, 60))"""


class JupyterLab:
    """A JupyterLab started by `running_jupyterlab`: its address, token, REST API and log."""

    def __init__(self, home: Path, base_url: str, process: subprocess.Popen, port: int, token: str) -> None:
        self.home, self.base_url, self.process, self.port, self.token = home, base_url, process, port, token
        self.log = home / "jupyterlab.log"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "") -> str:
        """`path` under the base URL, with the token that logs a browser in."""
        return f"{self.origin}{self.base_url}{path}{'&' if '?' in path else '?'}token={self.token}"

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(self.url(f"api/{path}"), method=method)
        with NO_PROXY.open(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def clear(self, path: str) -> None:
        """Clear the outputs and execution counts of `path` in the copy, before a page opens it:
        a number in a prompt then means this run reached that cell (an earlier test may have saved it)."""
        clear_outputs(self.home / "notebooks" / path)

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                self.api("status")
                return
            except OSError:  # urllib's errors too
                if self.process.poll() is not None:
                    pytest.fail(f"JupyterLab exited ({self.process.returncode}):\n{self.log_tail()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within {START_TIMEOUT} s:\n{self.log_tail()}")
                time.sleep(0.2)

    def kernels(self) -> list[dict]:
        return self.listing("kernels")

    def listing(self, path: str) -> list[dict]:
        # Jupyter Server answers 500 while a kernel is half-started (it has no last_activity yet).
        deadline = time.monotonic() + 10
        while True:
            try:
                return self.api(path)
            except urllib.error.HTTPError as error:
                if error.code != 500 or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def wait_for_connected_kernel(self, timeout_ms: float) -> None:
        """Until a kernel has started, is idle, and a page is connected to it."""
        deadline = time.monotonic() + timeout_ms / 1000

        def ready(kernel: dict) -> bool:
            return kernel["execution_state"] == "idle" and kernel["connections"] > 0

        while not any(ready(kernel) for kernel in self.kernels()):
            assert time.monotonic() < deadline, f"no kernel became ready:\n{self.log_tail()}"
            time.sleep(0.2)

    def shut_down_kernels(self) -> None:
        for session in self.listing("sessions"):  # a session holds its kernel's model: the same 500
            self.api(f"sessions/{session['id']}", method="DELETE")
        for kernel in self.kernels():
            self.api(f"kernels/{kernel['id']}", method="DELETE")


@contextlib.contextmanager
def running_jupyterlab(home: Path, *, lesson: str, base_url: str = "/") -> Iterator[JupyterLab]:
    """JupyterLab serving a copy of notebooks/ with `lesson` cleared; stopped, and no kernel left behind."""
    root, settings = home / "notebooks", home / "settings"
    copy_notebooks(root, lesson)
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
    env.pop("JUPYTERHUB_SERVICE_PREFIX", None)  # the kernels must find the base URL themselves
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.base_url={base_url}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}", f"--LabApp.user_settings_dir={settings}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI runs as root
    with (home / "jupyterlab.log").open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, cwd=home)
    lab = JupyterLab(home, base_url, process, port, token)
    try:
        lab.wait_ready()
        yield lab
    finally:
        stop(lab)
    # Kernels get their connection file from the runtime folder: none may outlive the server.
    leftovers = processes_mentioning(str(home / "runtime"))
    for pid in leftovers:
        os.kill(pid, 9)
    assert not leftovers, f"kernel processes outlived JupyterLab: {leftovers}"


def stop(lab: JupyterLab) -> None:
    try:
        if lab.process.poll() is None:
            lab.shut_down_kernels()
    except OSError:
        pass
    lab.process.terminate()  # Jupyter shuts down any kernel still running on the way out
    try:
        lab.process.wait(30)
    except subprocess.TimeoutExpired:
        lab.process.kill()
        lab.process.wait()


def copy_notebooks(root: Path, lesson: str) -> None:
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for path in root.glob(f"*/{lesson}"):
        clear_outputs(path)


def clear_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(notebook, path)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


# In the browser.


@contextlib.contextmanager
def lab_page(lab: JupyterLab, name: str, viewport: dict[str, int]) -> Iterator[object]:
    """A Chromium page for `lab`: `name`-failed.png if the test fails; then every kernel shut down."""
    (ARTIFACTS / f"{name}-failed.png").unlink(missing_ok=True)  # from an earlier run
    with chromium_page(viewport) as page:
        try:
            yield page
        except Exception:
            screenshot(page, f"{name}-failed")
            raise
        finally:
            lab.shut_down_kernels()
    # Messages spelled out: pytest rewrites the asserts of test modules, not of this one.
    left = lab.kernels()
    assert left == [], f"kernels still running after the test: {left}"
    assert lab.process.poll() is None, f"JupyterLab exited during the test:\n{lab.log_tail()}"


def open_notebook(page, lab: JupyterLab, path: str, *, workspace: str, timeout_ms: float) -> None:
    """Open `path` in a workspace of its own, and wait until its kernel is attached and idle."""
    page.goto(lab.url(f"lab/workspaces/{workspace}/tree/{path}"))
    # The page says "idle" before its kernel is attached; Run All then would ask which kernel.
    lab.wait_for_connected_kernel(timeout_ms)
    page.locator(IDLE_NOTEBOOK).wait_for(timeout=timeout_ms)
    page.locator(".jp-StatusBar-TextItem", has_text=IDLE_STATUS).wait_for(timeout=timeout_ms)


def run_all_cells(page) -> None:
    # A number in a prompt must mean this run reached the cell: none may show one before it.
    assert page.evaluate(NONE_RAN), "execution counts before Run All: the lesson's copy was not cleared"
    page.locator("li.lm-MenuBar-item", has_text="Run").click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()


def wait_for_run_all(page, lab: JupyterLab, path: str, timeout_ms: float) -> dict:
    """Until every code cell of `path` has run, and none failed; says which did not run, or failed.
    Returns the notebook as the page saved it."""
    try:
        page.wait_for_function(ALL_CELLS_RAN, timeout=timeout_ms)
    except Exception as timeout:
        pending = page.evaluate(NOT_RUN)
        raise AssertionError(f"Run All did not finish; cells not run: {pending}; "
                             f"failed: {saved_errors(page, lab, path)}") from timeout
    saved = saved_notebook(page, lab, path)
    failed = errors(saved)
    assert not failed, f"cells failed in Run All: {failed}"
    return saved


def saved_errors(page, lab: JupyterLab, path: str) -> list[str]:
    """The error outputs of `path`, saved from the page (the page renders an error like any stderr)."""
    return errors(saved_notebook(page, lab, path))


def errors(notebook: dict) -> list[str]:
    return [f"{(cell['source'].splitlines() or [''])[0]!r}: {output['ename']}: {output['evalue']}"
            for cell in notebook["cells"] if cell["cell_type"] == "code"
            for output in cell["outputs"] if output["output_type"] == "error"]


def saved_notebook(page, lab: JupyterLab, path: str) -> dict:
    """`path` as the page has it, saved from the page (File > Save), as JSON."""
    before = lab.api(f"contents/{path}?content=0")["last_modified"]
    page.locator("li.lm-MenuBar-item", has_text="File").click()
    page.locator(".lm-Menu-itemLabel").get_by_text(re.compile(r"^Save( Notebook)?$")).click()
    # Read the file only once the page has it saved: a read during the write gets a 500.
    page.locator(".lm-TabBar-tab.jp-mod-dirty").first.wait_for(state="detached", timeout=10_000)
    deadline = time.monotonic() + 10
    while True:
        try:
            saved = lab.api(f"contents/{path}")
            if saved["last_modified"] != before:
                break
        except urllib.error.HTTPError:
            pass
        assert time.monotonic() < deadline, f"JupyterLab did not save {path}:\n{lab.log_tail()}"
        time.sleep(0.2)
    return saved["content"]


def widget_failures(page) -> list[str]:
    """The lines of the page that say a widget did not render (an output nbclient never sees)."""
    text = page.locator("body").inner_text()
    return [line.strip() for line in text.splitlines() if any(failure in line for failure in WIDGET_FAILURES)]


def wait_for_outputs_shown(page, notebook: dict, mimes: tuple[str, ...], timeout_ms: float) -> None:
    """Until the page shows every output of `notebook` of these MIME types (widget views, plots)."""
    for mime in mimes:
        count = sum(mime in output.get("data", {}) for cell in notebook["cells"] if cell["cell_type"] == "code"
                    for output in cell["outputs"])
        try:
            page.wait_for_function(f"selector => ({RENDERED})(selector)[1] === {count}", arg=SHOWN_AS[mime],
                                   timeout=timeout_ms)
        except Exception as timeout:
            outputs, shown = page.evaluate(RENDERED, SHOWN_AS[mime])
            raise AssertionError(f"{mime}: the notebook has {count} outputs, the page {outputs}, shown {shown}; "
                                 f"failures on the page: {widget_failures(page)}") from timeout
        outputs, shown = page.evaluate(RENDERED, SHOWN_AS[mime])
        assert outputs == shown == count, f"{mime}: the notebook has {count}, the page {outputs}, shown {shown}"


def whole_notebook_screenshot(page, name: str) -> Path:
    """The whole notebook in one picture: the notebook scrolls inside its panel, not the page,
    so the viewport grows to the notebook's height for the shot (then shrinks back)."""
    viewport = page.viewport_size
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer").first
    extra = notebook.evaluate("panel => { panel.scrollTop = 0; return panel.scrollHeight - panel.clientHeight; }")
    page.set_viewport_size({"width": viewport["width"], "height": min(viewport["height"] + extra, 16_000)})
    try:
        page.wait_for_timeout(300)  # the panel lays out again
        return screenshot(page, name)
    finally:
        page.set_viewport_size(viewport)
