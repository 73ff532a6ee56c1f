"""Run lessons the way people do: store their outputs, and Run All with every cell queued at once.

`regenerate_outputs` is the only way stored outputs are made (``python3 dev.py regenerate``);
nbval then compares a fresh run against them. `run_all_queued` sends every cell to one kernel
before the first has finished, as JupyterLab's Run All does, and checks that each cell answers:
nbval runs cells one at a time, so it cannot see a kernel that drops queued cells.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LANGUAGES = ("en", "id")
KERNEL = "python3"


def lesson_paths(language: str | None = None) -> list[Path]:
    """Every lesson notebook, English first, in lesson order."""
    languages = [language] if language else LANGUAGES
    return [p for lang in languages for p in sorted((NOTEBOOKS / lang).glob("[0-9][0-9]-*.ipynb"))]


def regenerate_outputs(path: Path, timeout: int = 120) -> None:
    """Execute `path` top to bottom in its own folder and store its outputs in place."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        store_widget_state=False,
    )
    client.execute()
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    nbformat.write(notebook, path)


def coalesce_streams(outputs: list) -> list:
    """Join back-to-back stdout (or stderr) outputs: one print can arrive in pieces, which would
    store one line as two outputs depending on timing. nbval joins them the same way to compare."""
    joined: list = []
    for output in outputs:
        previous = joined[-1] if joined else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = previous["text"] + output["text"]
        else:
            joined.append(output)
    return joined


@dataclass
class RunAllResult:
    replies: dict[int, str] = field(default_factory=dict)  # cell index -> "ok" / "error" / "aborted"
    # (index -1 is the `then` code)
    errors: dict[int, str] = field(default_factory=dict)  # cell index -> "Name: value"
    missing: list[int] = field(default_factory=list)  # cells that never replied
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.missing and all(status == "ok" for status in self.replies.values())


def run_all_queued(path: Path, timeout: float = 120, rounds: int = 1, then: str = "") -> RunAllResult:
    """Queue every code cell of `path` on one fresh kernel at once; collect each cell's reply.

    `rounds=2` presses Run All twice on the same kernel, as a learner does who runs it again;
    `then` is code queued after the last cell (an assertion about the kernel's state), reported
    under index -1.
    """
    notebook = nbformat.read(path, as_version=4)
    code_cells = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    queue_ = [(i, notebook.cells[i].source) for _ in range(rounds) for i in code_cells]
    if then:
        queue_.append((-1, then))
    manager, client = start_new_kernel(kernel_name=KERNEL, cwd=str(path.parent))
    result = RunAllResult()
    try:
        started = time.perf_counter()
        # Every request goes out before the first reply is read, as JupyterLab's Run All does.
        cell_of = {client.execute(source, allow_stdin=False): index for index, source in queue_}
        deadline = started + timeout
        answered: set[str] = set()
        while len(answered) < len(cell_of) and time.perf_counter() < deadline:
            try:
                reply = client.get_shell_msg(timeout=max(0.1, deadline - time.perf_counter()))
            except queue.Empty:
                break
            msg_id = reply["parent_header"].get("msg_id")
            if msg_id not in cell_of:
                continue
            answered.add(msg_id)
            index, content = cell_of[msg_id], reply["content"]
            if result.replies.get(index, "ok") == "ok":  # keep a failure from any round
                result.replies[index] = content["status"]
            if content["status"] == "error":
                result.errors[index] = f"{content['ename']}: {content['evalue']}"
        result.seconds = time.perf_counter() - started
        result.missing = sorted({cell_of[m] for m in cell_of if m not in answered})
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return result
