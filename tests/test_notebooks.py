"""The lessons as people use them: both languages in parity, and Run All with every cell queued.

nbval (configured in pyproject.toml) re-runs each notebook cell by cell and compares outputs; these
tests cover what it cannot see.
"""

from __future__ import annotations

import copy
import re

import nbformat
import pytest

from tools.notebooks import NOTEBOOKS, coalesce_streams, lesson_paths, run_all_queued
from tools.parity import code_shape, differences, heading_levels

LESSONS = [path.name for path in lesson_paths("en")]


def read(language: str, name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / language / name, as_version=4)


def test_there_are_lessons():
    assert "01-real-time-communication-with-websocket.ipynb" in LESSONS


def test_every_lesson_exists_in_both_languages_under_the_same_name():
    assert [p.name for p in lesson_paths("en")] == [p.name for p in lesson_paths("id")]


@pytest.mark.parametrize("name", LESSONS)
def test_english_and_indonesian_lessons_are_in_parity(name):
    assert differences(read("en", name), read("id", name)) == []


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize("name", LESSONS)
def test_each_lesson_speaks_the_language_of_its_folder(language, name):
    code = "\n".join(c.source for c in read(language, name).cells if c.cell_type == "code")
    chosen = re.findall(r"""(?:set_language\(|lang=)["'](\w+)["']""", code)
    assert chosen and set(chosen) == {language}


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize("name", LESSONS)
def test_each_lesson_opens_with_what_you_will_do_learn_and_need(language, name):
    opening = read(language, name).cells[0].source
    words = {"en": ["What you'll do", "What you'll learn", "What you need"],
             "id": ["Yang akan Anda lakukan", "Yang akan Anda pelajari", "Yang Anda perlukan"]}
    assert all(word in opening for word in words[language]), opening[:300]


@pytest.mark.parametrize("name", LESSONS)
def test_stored_outputs_come_from_a_full_run(name):
    for language in ("en", "id"):
        cells = [c for c in read(language, name).cells if c.cell_type == "code"]
        counts = [c.execution_count for c in cells if c.source.strip()]
        assert counts == list(range(1, len(counts) + 1)), f"{language}: re-run `python3 dev.py regenerate`"
        assert not any(o.output_type == "error" for c in cells for o in c.outputs)
        assert not any(split_stream(c.outputs) for c in cells), f"{language}: re-run `python3 dev.py regenerate`"


def split_stream(outputs) -> bool:
    """Whether two outputs in a row are the same stream, i.e. one print stored in pieces."""
    return any(
        a.output_type == b.output_type == "stream" and a.name == b.name for a, b in zip(outputs, outputs[1:])
    )


def test_regenerate_joins_a_print_that_arrived_in_pieces():
    pieces = [
        nbformat.v4.new_output("stream", name="stdout", text="one more: HTTP"),
        nbformat.v4.new_output("stream", name="stdout", text=" 503\n"),
        nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
        nbformat.v4.new_output("stream", name="stdout", text="after\n"),
    ]
    joined = coalesce_streams(pieces)
    assert [(o.name, o.text) for o in joined] == [
        ("stdout", "one more: HTTP 503\n"), ("stderr", "warning\n"), ("stdout", "after\n")
    ]
    assert not split_stream(joined)


@pytest.mark.parametrize("path", lesson_paths(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_run_all_with_every_cell_queued_at_once_completes(path):
    result = run_all_queued(path, timeout=120)
    assert result.missing == [], f"cells that never replied (dropped): {result.missing}"
    assert result.errors == {}
    assert set(result.replies.values()) == {"ok"}


@pytest.mark.parametrize("path", lesson_paths(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_run_all_twice_on_one_kernel_leaves_no_orphan_server(path):
    # Pressing Run All again re-runs every cell in a kernel that still holds the first run's servers.
    after_one = run_all_queued(path, then=COUNT_SERVERS)
    after_two = run_all_queued(path, rounds=2, then=COUNT_SERVERS)
    assert after_two.missing == [] and after_two.errors == {}, after_two.errors
    assert after_one.ok and after_two.ok


COUNT_SERVERS = """
import wstutorial
assert len(wstutorial.running_servers()) == 1, wstutorial.running_servers()
"""


# The parity check itself must catch drift.


@pytest.fixture
def english():
    return read("en", LESSONS[0])


def test_parity_ignores_comments_and_string_literals(english):
    translated = copy.deepcopy(english)
    for cell in translated.cells:
        if cell.cell_type == "code":
            cell.source = cell.source.replace('"en"', '"id"').replace("# ", "# catatan: ")
    assert differences(english, translated) == []


def test_parity_catches_changed_code(english):
    drifted = copy.deepcopy(english)
    cell = next(c for c in drifted.cells if "serve_in_background(handler)" in c.source)
    cell.source = cell.source.replace("serve_in_background(handler)", "serve_in_background(handler, port=8080)")
    assert any("code differs" in d for d in differences(english, drifted))


def test_parity_catches_a_missing_or_extra_cell(english):
    drifted = copy.deepcopy(english)
    drifted.cells.append(nbformat.v4.new_code_cell("1 + 1"))
    assert differences(english, drifted)
    drifted.cells = drifted.cells[:-2]
    assert differences(english, drifted)


def test_parity_catches_a_changed_heading_structure(english):
    drifted = copy.deepcopy(english)
    cell = next(c for c in drifted.cells if c.cell_type == "markdown" and "### " in c.source)
    cell.source = cell.source.replace("### ", "## ", 1)
    assert any("headings" in d for d in differences(english, drifted))


def test_parity_catches_a_code_cell_turned_into_markdown(english):
    drifted = copy.deepcopy(english)
    index = next(i for i, c in enumerate(drifted.cells) if c.cell_type == "code")
    drifted.cells[index] = nbformat.v4.new_markdown_cell(drifted.cells[index].source)
    assert differences(english, drifted)


def test_headings_inside_code_blocks_do_not_count():
    assert heading_levels("# Title\n```python\n# a comment\n```\n## Part") == [1, 2]


def test_code_shape_sets_aside_strings_and_comments_only():
    assert code_shape('send("hello")  # greet') == code_shape("send('halo')")
    assert code_shape('send("hello")') != code_shape('sendall("hello")')
    assert code_shape('log(f"Received: {message}")') == code_shape('log(f"Diterima: {message}")')
    assert code_shape('f"{name} said hi"') == code_shape('f"kata {name}: halo"')


def test_code_shape_sees_a_changed_expression_inside_an_f_string():
    assert code_shape('send(f"Server: {message}")') != code_shape('send(f"Server: {message.upper()}")')


def test_code_shape_understands_top_level_await():
    assert code_shape("reply = await websocket.recv()") != code_shape("reply = websocket.recv()")


@pytest.mark.parametrize("path", lesson_paths(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_lesson_uses_nest_asyncio(path):
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert "nest_asyncio" not in code
