"""Every lesson in real JupyterLab, in a real browser: Run All; and lesson 01's widget chats.

nbval only compares the outputs a kernel produces; it cannot see whether the widget renders and
answers in the browser. Here JupyterLab runs on loopback with a token, headless Chromium opens
lesson 01 in each language, runs all cells from the Run menu, types into the widget's text box,
presses Send (and then Enter), and waits for the server's echo in the rendered widget.
Every lesson, in both languages, also runs all its cells from the Run menu in the same JupyterLab
(one at a time: each test shuts its kernel down); every widget and plot it makes must be on show,
and no widget may have failed to render -- what a learner sees, which nbclient cannot.
Screenshots go to test-artifacts/. The notebooks are copied to a temporary folder first, so
JupyterLab's autosave never touches the committed ones, and every Jupyter and IPython folder
points into that temporary folder too.
"""

from __future__ import annotations

import time

import pytest

from tests.browser import require_chromium, screenshot
from tests.lab_server import (
    WIDGET, lab_page, open_notebook, run_all_cells, running_jupyterlab, wait_for_outputs_shown,
    wait_for_run_all, whole_notebook_screenshot, widget_failures,
)
from tools.notebooks import lesson_paths

LESSON = "01-real-time-communication-with-websocket.ipynb"
KERNEL_TIMEOUT = 60_000  # ms, for Playwright: a kernel start or Run All on that machine
LESSON_TIMEOUT = 120_000  # ms: Run All of the slowest lesson on a busy 2-core machine
ECHO_TIMEOUT = 30_000  # ms
RENDER_TIMEOUT = 30_000  # ms: widgets and plots drawn once Run All has finished
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


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a token, serving a copy of notebooks/; always stopped."""
    require_chromium()  # no JupyterLab start when the browser tests cannot run anyway
    with running_jupyterlab(tmp_path_factory.mktemp("lab"), lesson=LESSON) as server:
        yield server


@pytest.mark.parametrize("lang", ["en", "id"])
def test_run_all_then_chat_through_the_rendered_widget(lab, lang):
    words = WIDGET_TEXT[lang]
    with lab_page(lab, f"lab-01-{lang}", {"width": 1280, "height": 1000}) as page:
        open_notebook(page, lab, f"{lang}/{LESSON}", workspace=f"test-{lang}", timeout_ms=KERNEL_TIMEOUT)
        run_all_cells(page)
        # The copy has no outputs and no execution counts: a number in every prompt means
        # every cell has run, and the widget on the page came from this run.
        wait_for_run_all(page, lab, f"{lang}/{LESSON}", KERNEL_TIMEOUT)

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


@pytest.mark.parametrize("path", lesson_paths(), ids=lambda path: f"{path.parent.name}-{path.stem[:2]}")
def test_every_lesson_runs_all_cells_and_renders_its_widgets(lab, path):
    lang, lesson = path.parent.name, f"{path.parent.name}/{path.name}"
    lab.clear(lesson)  # the copy holds the stored outputs (or the chat test's run of lesson 01)
    with lab_page(lab, f"lab-{lang}-{path.stem}", {"width": 1280, "height": 1000}) as page:
        open_notebook(page, lab, lesson, workspace=f"lesson-{lang}-{path.stem[:2]}", timeout_ms=KERNEL_TIMEOUT)
        run_all_cells(page)
        saved = wait_for_run_all(page, lab, lesson, LESSON_TIMEOUT)
        # Every widget and every plot of this run on show, and no widget that failed to render.
        wait_for_outputs_shown(page, saved, (WIDGET, "image/png"), RENDER_TIMEOUT)
        assert widget_failures(page) == []
        whole_notebook_screenshot(page, f"lab-{lang}-{path.stem}")


def wait_for_value(box, value: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while box.input_value() != value:
        assert time.monotonic() < deadline, f"the text box still holds {box.input_value()!r}"
        time.sleep(0.05)
