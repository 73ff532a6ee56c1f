"""The article's own Node.js server (the `ws` package) and our Python clients understand each other.

Every answer from the article's server is compared with the answer from the helper's
`serve_in_background(echo)`: a learner who swaps one server for the other sees no difference.
Where node or npm is missing the tests skip with the reason, except in CI, which has them
(`.ci/run` installs them): there a missing node is a failure.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import nbformat
import pytest
from websockets.sync.client import connect

from helpers import wait_until
from wstutorial import loop
from wstutorial.nodeserver import ArticleNodeServer, node_missing

pytestmark = pytest.mark.usefixtures("english")

ROOT = Path(__file__).resolve().parent.parent
LESSON_01 = ROOT / "notebooks" / "en" / "01-real-time-communication-with-websocket.ipynb"
UNICODE = "Halo, apa kabar? héllo — 日本語 👋"


@pytest.fixture(scope="session")
def node_folder(tmp_path_factory):
    """`ws` npm-installed into a fresh folder of this test session, as a fresh clone would have it."""
    if reason := node_missing():
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI has Node.js: .ci/run installs it)")
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("node")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WSTUTORIAL_NODE_DIR", str(folder))
        yield folder


@pytest.fixture
def article_server(node_folder):
    with ArticleNodeServer() as server:
        yield server


@pytest.fixture
def servers(article_server, echo_server):
    """The article's Node server and the helper's echo server, by name."""
    return {"node": article_server, "helper": echo_server}


def test_ws_is_installed_into_the_local_folder(node_folder, article_server):
    assert (node_folder / "node_modules" / "ws" / "package.json").exists()
    assert article_server.running


def test_chat_client_gets_the_same_answer_from_the_article_server_as_from_the_helper(servers, chat):
    answers = {}
    for name, server in servers.items():
        client = chat(server.url, lang="en")
        client.send("hello")
        answers[name] = client.wait_for(1)
    assert answers["node"] == answers["helper"] == ["Server: hello"]


def test_the_lessons_client_code_gets_the_same_answers_from_the_article_server(servers):
    connect_cell, talk_function = lesson_client_code()
    for name, server in servers.items():
        cell = run_cell_with_await(connect_cell, server=server)
        talk = run_cell_with_await(talk_function)["talk"]
        assert cell["reply"] == "Server: hello", name
        assert loop.run(talk(server.url, "hello again"), timeout=10) == "Server: hello again", name
        assert loop.run(talk(server.url, UNICODE), timeout=10) == f"Server: {UNICODE}", name


def test_several_messages_come_back_in_order_as_from_the_helper(servers, chat):
    sent = [f"message {number}" for number in range(1, 11)] + [""]
    answers = {}
    for name, server in servers.items():
        client = chat(server.url, lang="en")
        for text in sent:
            client.send(text)
        answers[name] = client.wait_for(len(sent))
    assert answers["node"] == answers["helper"] == [f"Server: {text}" for text in sent]


def test_unicode_comes_back_unchanged_as_from_the_helper(servers, chat):
    answers = {}
    for name, server in servers.items():
        client = chat(server.url, lang="en")
        client.send(UNICODE)
        answers[name] = client.wait_for(1)
    assert answers["node"] == answers["helper"] == [f"Server: {UNICODE}"]


def test_the_article_server_prints_what_the_article_says(article_server):
    with connect(article_server.url) as websocket:
        websocket.send("hello")
        assert websocket.recv(timeout=10) == "Server: hello"
    expected = [
        f"WebSocket server is running on ws://localhost:{article_server.port}",
        "Client connected",
        "Received: hello",
    ]
    assert wait_until(lambda: article_server.output == expected, timeout=10), article_server.output


def test_closing_from_our_side_ends_cleanly_and_the_server_keeps_serving(servers, chat):
    for name, server in servers.items():
        client = chat(server.url, lang="en")
        client.send("bye")
        client.wait_for(1)
        client.close()
        assert (client.state, client.close_code) == ("closed", 1000), (name, client.status)
        with connect(server.url) as websocket:
            websocket.send("still there?")
            assert websocket.recv(timeout=10) == "Server: still there?", name
        assert websocket.close_code == 1000, name
    assert servers["node"].running


def lesson_client_code() -> tuple[str, str]:
    """Lesson 01's client code, as its cells have it: the `connect` cell and the `talk` function."""
    notebook = nbformat.read(LESSON_01, as_version=4)
    cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    (connect_cell,) = [source for source in cells if "async with connect(server.url)" in source]
    (talk_cell,) = [source for source in cells if "async def talk(" in source]
    # The cell also shows that asyncio.run() fails in a kernel; only the function is the client.
    wanted = ast.Import | ast.ImportFrom | ast.AsyncFunctionDef
    talk_function = ast.Module([node for node in ast.parse(talk_cell).body if isinstance(node, wanted)], [])
    return connect_cell, "from websockets.asyncio.client import connect\n" + ast.unparse(talk_function)


def run_cell_with_await(source: str, **names) -> dict:
    """Run a cell's source with top-level `await`, as IPython does, on the helper's loop."""
    namespace = {"__name__": "__main__", **names}
    code = compile(source, "<lesson 01 cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    coroutine = eval(code, namespace)  # a coroutine when the cell awaits, else None
    if coroutine is not None:
        loop.run(coroutine, timeout=10)
    return namespace
