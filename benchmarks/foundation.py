"""Foundation benchmarks: each figure next to a baseline measured in the same run.

    python3 dev.py bench                      # the two lesson notebooks
    python3 dev.py bench path/to/x.ipynb ...  # Run All other notebooks instead

The machine may be small and noisy, so absolute times mean little: read the ratio column
(ours / baseline). Our runs and the baseline's alternate, so that noise hits both alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
import websockets  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from tools.notebooks import run_all_queued  # noqa: E402
from wstutorial import loop  # noqa: E402
from wstutorial.handlers import echo  # noqa: E402
from wstutorial.server import serve_in_background  # noqa: E402

HOST = "127.0.0.1"
STARTS = 50  # start/stop cycles, for start and stop times
MESSAGES = 2_000  # sequential round trips on one connection
WARMUP = 100  # round trips before measuring
BLOCK = 100  # WebSocket and TCP round trips alternate in blocks of this many
KERNEL_BASELINE_RUNS = 3  # Run All of the one-cell notebook
RUN_ALL_TIMEOUT = 60.0  # seconds per lesson, so the whole script stays bounded
MESSAGE = "0123456789abcdef" * 2  # 32 bytes of text
LESSONS = [
    ROOT / "notebooks" / lang / "01-real-time-communication-with-websocket.ipynb"
    for lang in ("en", "id")
]


Row = tuple[str, str, str, str]  # measurement, wstutorial, baseline, ratio


# --- helpers -------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def stat(samples: list[float], name: str) -> float:
    """The median ("median" or "p50") or a percentile ("p90", "p99") of `samples`."""
    if name in ("median", "p50"):
        return statistics.median(samples)
    return statistics.quantiles(samples, n=100, method="inclusive")[int(name[1:]) - 1]


async def tcp_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Baseline server: what the echo handler does, over plain TCP."""
    try:
        while data := await reader.read(65536):
            writer.write(b"Server: " + data)
            await writer.drain()
    finally:
        writer.close()


async def bare_start() -> asyncio.Server:
    return await asyncio.start_server(tcp_echo, HOST, 0)


async def bare_stop(server: asyncio.Server) -> None:
    server.close()
    await server.wait_closed()


def wait_port_free(port: int, limit: float = 10.0) -> None:
    """Return once a plain socket can bind `port` (no SO_REUSEADDR)."""
    deadline = time.perf_counter() + limit
    while True:
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
                return
            except OSError:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"port {port} still taken after {limit} s") from None
        time.sleep(0.0005)


# --- measurements: each returns rows (label, ours, baseline, ratio) -------------------------------


def start_and_stop() -> list[Row]:
    """1. serve_in_background(echo) until listening; 2. stop() until the port binds again."""
    ours_start, ours_stop, base_start, base_stop = [], [], [], []
    for i in range(STARTS + 1):  # the first cycle is a warm-up
        t0 = time.perf_counter()
        server = serve_in_background(echo)
        t1 = time.perf_counter()
        server.stop()
        wait_port_free(server.port)
        t2 = time.perf_counter()

        t3 = time.perf_counter()
        bare = loop.run(bare_start())
        t4 = time.perf_counter()
        port = bare.sockets[0].getsockname()[1]
        loop.run(bare_stop(bare))
        wait_port_free(port)
        t5 = time.perf_counter()

        if i:
            ours_start.append(t1 - t0)
            ours_stop.append(t2 - t1)
            base_start.append(t4 - t3)
            base_stop.append(t5 - t4)
    return [
        *compare(f"start to listening, n={STARTS}", ours_start, base_start, ["median", "p90"]),
        *compare(f"stop to port free, n={STARTS}", ours_stop, base_stop, ["median", "p90"]),
    ]


def round_trips(ours, base) -> tuple[list[float], list[float]]:
    """Time MESSAGES sequential send+receive calls of each client, in alternating blocks."""
    for _ in range(WARMUP):
        ours()
        base()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(MESSAGES // BLOCK):
        for send_recv, samples in zip((ours, base), times):
            for _ in range(BLOCK):
                t0 = time.perf_counter()
                send_recv()
                samples.append(time.perf_counter() - t0)
    return times


def echo_round_trip() -> list[Row]:
    """3. Echo round trips, WebSocket vs plain TCP, each from a blocking client in this thread."""
    server = serve_in_background(echo)
    bare = loop.run(bare_start())
    payload = MESSAGE.encode()
    expected = len(b"Server: ") + len(payload)
    try:
        with connect(server.url) as ws, socket.create_connection(bare.sockets[0].getsockname()[:2]) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)

            def ws_send_recv() -> None:
                ws.send(MESSAGE)
                ws.recv()

            def tcp_send_recv() -> None:
                sock.sendall(payload)
                received = 0
                while received < expected:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise ConnectionError("the TCP echo server closed the connection")
                    received += len(chunk)

            ours, base = round_trips(ws_send_recv, tcp_send_recv)
    finally:
        server.stop()
        loop.run(bare_stop(bare))
    ours_rate, base_rate = len(ours) / sum(ours), len(base) / sum(base)
    return [
        *compare(f"echo round trip, n={len(ours)}", ours, base, ["p50", "p99"]),
        ("echo round trips per second", f"{ours_rate:,.0f} /s", f"{base_rate:,.0f} /s", f"{ours_rate / base_rate:.2f}"),
    ]


def run_all(paths: list[Path]) -> list[Row]:
    """4. Run All (every cell queued at once) of each lesson vs a one-cell notebook."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tiny = Path(tmp) / "tiny.ipynb"
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, tiny)
        base_cells, base_wall = [], []
        for _ in range(KERNEL_BASELINE_RUNS):
            cells, wall, problem = timed_run_all(tiny)
            if problem:
                raise RuntimeError(f"the one-cell baseline notebook:{problem}")
            base_cells.append(cells)
            base_wall.append(wall)
    cells_b, wall_b = statistics.median(base_cells), statistics.median(base_wall)
    for path in paths:
        name = short_name(path)
        if not path.exists():
            rows.append((f"Run All {name}", "skipped: not found", "", ""))
            continue
        cells, wall, flag = timed_run_all(path)
        rows.append((f"Run All {name}: cells", f"{cells:.2f} s{flag}", f"{cells_b:.3f} s", f"{cells / cells_b:.1f}"))
        rows.append((f"Run All {name}: + kernel start/stop", f"{wall:.2f} s{flag}", f"{wall_b:.2f} s", f"{wall / wall_b:.2f}"))
    return rows


def timed_run_all(path: Path) -> tuple[float, float, str]:
    """RunAllResult.seconds (first cell sent to last reply), wall time of the whole call, problem."""
    t0 = time.perf_counter()
    with kernel_stderr_filtered():
        result = run_all_queued(path, timeout=RUN_ALL_TIMEOUT)
    wall = time.perf_counter() - t0
    problem = " TIMED OUT" if result.missing else "" if result.ok else " FAILED"
    return result.seconds, wall, problem


@contextlib.contextmanager
def kernel_stderr_filtered():
    """Keep each kernel's "running over TCP without encryption" warning out of the table.

    The kernel inherits file descriptor 2; anything else it writes there is passed on afterwards.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines(keepends=True):
                if "without encryption" not in line:
                    sys.stderr.write(line)
            sys.stderr.flush()


# --- output --------------------------------------------------------------------------------------


def compare(label: str, ours: list[float], base: list[float], stats: list[str]) -> list[Row]:
    rows = []
    for name in stats:
        a, b = stat(ours, name), stat(base, name)
        rows.append((f"{label}: {name}", ms(a), ms(b), f"{a / b:.2f}"))
    return rows


def short_name(path: Path) -> str:
    """notebooks/en/01-real-time-....ipynb -> en/01"""
    return f"{path.parent.name}/{path.stem.split('-')[0]}"


def print_table(rows: list[Row]) -> None:
    header = ("measurement", "wstutorial", "baseline", "ratio")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:])]
        print("  ".join(cells).rstrip())


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or LESSONS
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    print("wstutorial foundation benchmarks")
    print(f"python      {platform.python_version()} ({platform.python_implementation()}, {sys.executable})")
    print(f"websockets  {websockets.__version__}")
    print(f"date        {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"machine     {platform.machine()}, {platform.system()} {platform.release()}, "
          f"{cores} cores ({usable} usable)")
    print(flush=True)

    loop.get_loop()  # start the background thread before anything is timed
    started = time.perf_counter()
    rows = [*start_and_stop(), *echo_round_trip(), *run_all(paths)]
    print_table(rows)
    print()
    print("baselines and clients:")
    print("  start/stop : a bare asyncio.start_server on the same background loop (wstutorial.loop.run),")
    print("               started and closed (close + wait_closed) alternately with ours; 'port free' =")
    print("               a plain socket (no SO_REUSEADDR) binds the port again. No client was connected.")
    print("  echo       : one connection each, 32-byte messages sent one after another, reply awaited each")
    print(f"               time; the two connections take turns in blocks of {BLOCK} messages.")
    print("               wstutorial = handlers.echo via serve_in_background, client websockets.sync.client.connect;")
    print("               baseline = asyncio-streams TCP echo (replies 'Server: ' + data) on the same loop,")
    print("               client a blocking socket with TCP_NODELAY. Both clients run in the main thread,")
    print("               so the client's own cost is part of every figure. For '/s' a ratio < 1 is slower.")
    print("  Run All    : tools.notebooks.run_all_queued (every code cell queued at once on a fresh kernel).")
    print("               'cells' = RunAllResult.seconds (first cell sent to last reply; kernel start not")
    print("               included); '+ kernel start/stop' = wall time of the whole call. Baseline: a temp")
    print(f"               notebook with one cell '1 + 1', median of {KERNEL_BASELINE_RUNS} runs.")
    for path in paths:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"               {short_name(path)} = {shown}")
    print(f"               A lesson gets {RUN_ALL_TIMEOUT:.0f} s; FAILED = a cell raised, TIMED OUT = cells never answered.")
    print(f"ratio = wstutorial / baseline. Measured in {time.perf_counter() - started:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
