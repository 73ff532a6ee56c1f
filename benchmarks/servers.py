"""Echo servers side by side, driven by one light client: the helper's, the article's Node server, a TCP floor.

    python3 dev.py bench servers        # this script alone (under a minute)
    python3 dev.py bench servers --unpinned   # let the system spread processes over the cores
    python3 dev.py bench                # this script, then foundation.py

Every server runs in its own process and every measurement is made by the same client, a fresh
process per run that speaks WebSocket over a plain socket (see `LightClient`): it does the handshake
once, sends pre-built masked frames and only counts the replies' frame headers, so it costs far less
per message than any WebSocket server here. Its ceiling is the TCP floor row: a blocking echo over
the same loopback, answering the same bytes. Figures are medians of a few repetitions; the servers
take turns (the order rotates each repetition) so that the machine's noise hits them all alike, and
everything runs on one core, which keeps round trips steady on a small shared machine. Read the
ratio columns, not the absolute times, which depend on the machine and its load; the CPU columns
(the server's own CPU time per message) hardly depend on what else the machine is doing.

The script also serves (``--serve KIND``) and measures (``--client PORT``): the harness starts
itself in those roles, so the servers and the client never share a process or a GIL.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
if str(ROOT / "src") not in sys.path:  # the script runs from a checkout, installed or not
    sys.path.insert(0, str(ROOT / "src"))

from wstutorial.frames import Opcode, accept_key, close_payload, decode_frame, encode_frame  # noqa: E402

NODE_FOLDER = HERE / ".node"  # where the script npm-installs `ws` (git-ignored)
QUIET_NODE = HERE / "node-console-log-off.js"

HOST = "127.0.0.1"
MESSAGE = b"0123456789abcdef" * 2  # 32 bytes of text, as in foundation.py
ROUND_TRIPS = 5_000  # sequential: send one, wait for its reply
PIPELINED = 20_000  # pipelined: written in batches while the replies are counted
BATCH = 100  # frames per write when pipelining
WARMUP = 300  # round trips on each connection before anything is timed
REPETITIONS = 5  # every server measured this many times; the table shows medians
RUN_TIMEOUT = 60.0  # one client run (both measurements) on one server

# RFC 6455 wants a fresh random mask key for every frame a client sends; for a benchmark a fixed one is
# fine (masking only guards proxies against cache poisoning) and lets every frame be built in advance.
MASK = b"\x37\xfa\x21\x3d"
# What a browser offers. Each server decides: websockets accepts it by default, the ws package does not.
OFFER = "permessage-deflate; client_max_window_bits"


# --- the client ----------------------------------------------------------------------------------


def take_frames(buffer: bytearray) -> int:
    """Remove every whole frame from the front of `buffer`; return how many were data frames.

    Only headers are read: no unmasking, no decompression, no UTF-8 check. Control frames (a ping)
    are skipped; a close frame from the server means the run is over too early, so it raises.
    """
    i, end, count = 0, len(buffer), 0
    while end - i >= 2:
        first, second = buffer[i], buffer[i + 1]
        length, header = second & 0x7F, 2
        if length == 126:
            if end - i < 4:
                break
            length, header = int.from_bytes(buffer[i + 2:i + 4], "big"), 4
        elif length == 127:
            if end - i < 10:
                break
            length, header = int.from_bytes(buffer[i + 2:i + 10], "big"), 10
        if second & 0x80:
            header += 4
        if end - i < header + length:
            break
        opcode = first & 0x0F
        if opcode == 0x8:
            raise ConnectionError(f"the server closed the connection: {bytes(buffer[i:i + header + length])!r}")
        if first & 0x80 and opcode < 0x8:
            count += 1
        i += header + length
    del buffer[:i]
    return count


class LightClient:
    """A WebSocket client on a plain blocking socket, as light as Python allows.

    ``websocket=False`` skips the handshake: the same client then drives the TCP floor, which sends
    the client's own frames back.
    """

    def __init__(self, port: int, websocket: bool = True, host: str = HOST) -> None:
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        self.buffer = bytearray()
        self.frame = encode_frame(Opcode.TEXT, MESSAGE, mask_key=MASK)  # built once, sent every time
        self.deflate = False  # whether the server accepted permessage-deflate
        self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)  # for check_echo
        if websocket:
            self._handshake(host, port)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(encode_frame(Opcode.CLOSE, close_payload(1000), mask_key=MASK))
        self.sock.close()

    def __enter__(self) -> LightClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _handshake(self, host: str, port: int) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Extensions: {OFFER}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        while b"\r\n\r\n" not in self.buffer:
            self._receive()
        head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
        self.buffer[:] = rest
        status, *lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in f"{status} ":
            raise ConnectionError(f"the server refused the handshake: {status}")
        headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
        if headers.get("sec-websocket-accept") != accept_key(key):
            raise ConnectionError("the server answered with a wrong Sec-WebSocket-Accept")
        self.deflate = "permessage-deflate" in headers.get("sec-websocket-extensions", "")

    def _receive(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buffer += data

    def check_echo(self, expected: bytes) -> None:
        """One round trip whose reply is decoded in full and compared with `expected`.

        Only before the measurements: they skip inflating, so the compression context goes stale.
        """
        self.sock.sendall(self.frame)
        while True:
            before = bytes(self.buffer)
            if take_frames(self.buffer):
                break
            self._receive()
        # RSV1 marks a compressed reply (permessage-deflate, RFC 7692). frames.py implements no extension,
        # so it would reject the bit: it is cleared for decoding and the payload inflated here. A masked
        # reply is the TCP floor sending the client's own frame back; decode_frame unmasks it.
        compressed = bool(before[0] & 0x40)
        payload = decode_frame(bytes([before[0] & ~0x40]) + before[1:]).payload
        if compressed:
            payload = self._inflate.decompress(payload + b"\x00\x00\xff\xff")
        if payload != expected:
            raise AssertionError(f"the server answered {payload!r}, expected {expected!r}")

    def round_trips(self, count: int) -> list[float]:
        """Send one frame, wait for one reply, `count` times; return each round trip in seconds."""
        sock, frame, buffer, clock = self.sock, self.frame, self.buffer, time.perf_counter
        times = []
        for _ in range(count):
            start = clock()
            sock.sendall(frame)
            while not take_frames(buffer):
                self._receive()
            times.append(clock() - start)
        return times

    def pipelined(self, count: int, batch: int = BATCH) -> float:
        """Write `count` frames in batches from a thread while this one counts replies; return seconds."""
        if count % batch:
            raise ValueError("count must be a multiple of batch")
        block = self.frame * batch
        failure: list[BaseException] = []

        def write() -> None:
            try:
                for _ in range(count // batch):
                    self.sock.sendall(block)
            except OSError as error:
                failure.append(error)

        writer = threading.Thread(target=write, name="pipelined-writer")
        received = 0
        start = time.perf_counter()
        writer.start()
        try:
            while received < count:
                self._receive()
                received += take_frames(self.buffer)
        finally:
            elapsed = time.perf_counter() - start
            writer.join()
        if failure:
            raise failure[0]
        if received != count:
            raise AssertionError(f"{received} replies to {count} messages")
        return elapsed


def measure(port: int, websocket: bool, round_trips: int = ROUND_TRIPS, pipelined: int = PIPELINED,
            warmup: int = WARMUP, server_pid: int | None = None) -> dict:
    """What one client run reports: round-trip percentiles, pipelined messages per second, and the
    server's own CPU time per message in each (when `server_pid` is given and the system tells)."""
    expected = b"Server: " + MESSAGE if websocket else MESSAGE
    with LightClient(port, websocket) as client:
        client.check_echo(expected)
        client.round_trips(warmup)
        cpu_start = cpu_seconds(server_pid)
        times = client.round_trips(round_trips)
        cpu_between = cpu_seconds(server_pid)
        client.pipelined(max(BATCH, warmup // BATCH * BATCH))
        cpu_pipelined = cpu_seconds(server_pid)
        seconds = client.pipelined(pipelined)
        cpu_end = cpu_seconds(server_pid)
        deflate = client.deflate
    known = None not in (cpu_start, cpu_between, cpu_pipelined, cpu_end)
    return {
        "p50": percentile(times, 50),
        "p99": percentile(times, 99),
        "rate": pipelined / seconds,
        "deflate": deflate,
        "cpu_sequential": (cpu_between - cpu_start) / round_trips if known else None,
        "cpu_pipelined": (cpu_end - cpu_pipelined) / pipelined if known else None,
    }


def cpu_seconds(pid: int | None) -> float | None:
    """CPU time used so far by every thread of process `pid` (Linux /proc, in ns); None if unknown."""
    if pid is None:
        return None
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):  # a thread that just ended
                total += int((task / "schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e9


def percentile(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


# --- the servers ---------------------------------------------------------------------------------


def tcp_echo_server(host: str = HOST) -> socket.socket:
    """The floor: a listening socket whose connections each get a thread that sends back what it reads."""
    listener = socket.create_server((host, 0))

    def answer(connection: socket.socket) -> None:
        with connection:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
            with contextlib.suppress(OSError):
                while data := connection.recv(65536):
                    connection.sendall(data)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = listener.accept()
                threading.Thread(target=answer, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True, name="tcp-floor").start()
    return listener


def serve(kind: str) -> None:
    """Run one server in this process, print its port and loop type, serve until stdin closes."""
    if kind == "tcp":
        listener = tcp_echo_server()
        print(json.dumps({"port": listener.getsockname()[1], "loop": "threads"}), flush=True)
        sys.stdin.read()
        listener.close()
        return
    helper, _, variant = kind.partition(":")
    if helper != "helper":
        raise SystemExit(f"unknown server kind {kind!r}")
    options = {}
    for part in filter(None, variant.split(",")):
        if part == "uvloop":
            import asyncio
            import warnings

            import uvloop

            with warnings.catch_warnings():  # the policy API is deprecated from Python 3.14 on
                warnings.simplefilter("ignore", DeprecationWarning)
                asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        elif part == "unbatched":
            from websockets.asyncio.server import ServerConnection

            options["create_connection"] = ServerConnection  # websockets' own: a write per frame
        elif part == "no-compression":
            options["compression"] = None
        else:
            raise SystemExit(f"unknown variant {part!r}")
    from wstutorial import loop
    from wstutorial.handlers import echo
    from wstutorial.server import serve_in_background

    # The helper's background loop, made the way wstutorial.loop makes it (under uvloop's policy
    # when asked): the handler is the lesson's `echo`, log() calls and all.
    server = serve_in_background(echo, **options)
    loop_type = type(loop.get_loop()).__module__.split(".")[0]
    print(json.dumps({"port": server.port, "loop": loop_type}), flush=True)
    sys.stdin.read()
    server.stop()


@dataclass
class Server:
    """One server under test, as the table shows it."""

    key: str
    label: str
    websocket: bool = True
    port: int = 0
    loop: str = ""
    process: subprocess.Popen | None = None
    node: object = None  # an ArticleNodeServer
    skipped: str = ""

    @property
    def pid(self) -> int | None:
        if self.process is not None:
            return self.process.pid
        if self.node is not None:
            return self.node.pid
        return None

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.node is not None:
            self.node.stop()


def start_python_server(server: Server, cpu: int | None = None) -> Server:
    server.process = subprocess.Popen(
        [sys.executable, __file__, "--serve", server.key, *cpu_option(cpu)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    line = server.process.stdout.readline()
    if not line:
        server.stop()
        raise RuntimeError(f"the {server.label} server did not start (exit code {server.process.returncode})")
    started = json.loads(line)
    server.port, server.loop = started["port"], started["loop"]
    return server


def start_node_server(server: Server, console_log: bool, cpu: int | None = None) -> Server:
    from wstutorial.nodeserver import ArticleNodeServer, install_ws, node_missing

    if reason := node_missing():
        server.skipped = f"skipped: {reason}"
        return server
    try:
        install_ws()  # before NODE_OPTIONS below, which must not reach npm
        with node_options("" if console_log else f'--require="{QUIET_NODE}"'), pinned(cpu):
            # Node and the thread that reads its console output inherit this thread's core.
            server.node = ArticleNodeServer().start()
    except RuntimeError as error:  # npm install failed (offline?), or node exited at start
        server.skipped = f"skipped: {error}".splitlines()[0]
        return server
    server.port, server.loop = server.node.port, "node"
    return server


@contextlib.contextmanager
def node_options(value: str):
    """NODE_OPTIONS for the node process started inside (ArticleNodeServer passes os.environ on)."""
    saved = os.environ.get("NODE_OPTIONS")
    if value:
        os.environ["NODE_OPTIONS"] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("NODE_OPTIONS", None)
        else:
            os.environ["NODE_OPTIONS"] = saved


def cpu_option(cpu: int | None) -> list[str]:
    return [] if cpu is None else ["--cpu", str(cpu)]


def chosen_cpu() -> int | None:
    """The core everything runs on: the last one this process may use (None where unsupported)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    return max(os.sched_getaffinity(0))


@contextlib.contextmanager
def pinned(cpu: int | None):
    """This thread on `cpu` for the duration; what it starts meanwhile stays there."""
    if cpu is None:
        yield
        return
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, saved)


def run_client(server: Server, cpu: int | None = None) -> dict:
    """One run of the light client, in a fresh process, against `server`."""
    command = [sys.executable, __file__, "--client", str(server.port), *cpu_option(cpu)]
    if not server.websocket:
        command.append("--tcp")
    if server.pid is not None:
        command += ["--server-pid", str(server.pid)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"the client failed against {server.label}:\n{result.stderr.strip()}")
    return json.loads(result.stdout)


# --- the table -----------------------------------------------------------------------------------


def servers_to_compare(uvloop_available: bool) -> list[Server]:
    servers = [
        Server("tcp", "TCP floor: blocking echo, same bytes back", websocket=False),
        Server("node", f"article's Node server (ws {ws_version()})"),
        Server("node-quiet", "  same, console.log made a no-op"),
        Server("helper:unbatched", "helper before: a write per reply"),
        Server("helper", "helper now: serve_in_background(echo)"),
        Server("helper:no-compression", "  + compression=None"),
    ]
    if uvloop_available:
        servers += [
            Server("helper:uvloop", "  + uvloop"),
            Server("helper:uvloop,no-compression", "  + uvloop + compression=None"),
        ]
    return servers


def ws_version() -> str:
    """The `ws` version wstutorial.nodeserver installs (pinned in its package.json)."""
    from wstutorial.nodeserver import PACKAGE_JSON

    return json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["dependencies"]["ws"]


def ratio(value: float | None, reference: float | None) -> str:
    return f"{value / reference:.2f}" if value and reference else "-"


def median_of(runs: list[dict], name: str) -> float | None:
    values = [run[name] for run in runs if run.get(name) is not None]
    return statistics.median(values) if values else None


def micro(seconds: float | None, digits: int = 0) -> str:
    if seconds is None:
        return "-"
    if 0 < seconds * 1e6 < 0.5 * 10**-digits:
        return f"<{10**-digits:g}"
    return f"{seconds * 1e6:.{digits}f}"


def table(servers: list[Server], results: dict[str, list[dict]]) -> list[tuple[str, ...]]:
    names = ("p50", "p99", "rate", "cpu_sequential", "cpu_pipelined")
    medians = {key: {name: median_of(runs, name) for name in names} for key, runs in results.items()}
    floor = medians.get("tcp", {})
    node = medians.get("node", {})
    rows = []
    for server in servers:
        if server.skipped:
            rows.append((server.label, server.skipped))
            continue
        m = medians[server.key]
        deflate = any(run["deflate"] for run in results[server.key])
        rows.append((
            server.label,
            server.loop,
            "yes" if deflate else "no",
            micro(m["p50"]),
            micro(m["p99"]),
            ratio(m["p50"], node.get("p50")),
            ratio(m["p50"], floor.get("p50")),
            ratio(m["p99"], node.get("p99")),
            ratio(m["p99"], floor.get("p99")),
            f"{m['rate']:,.0f}",
            ratio(m["rate"], node.get("rate")),
            ratio(m["rate"], floor.get("rate")),
            micro(m["cpu_sequential"], 1),
            micro(m["cpu_pipelined"], 1),
        ))
    return rows


HEADER = [
    "server", "loop", "deflate", "p50 µs", "p99 µs", "p50 ÷node", "p50 ÷floor", "p99 ÷node", "p99 ÷floor",
    "msg/s", "msg/s ÷node", "msg/s ÷floor", "CPU seq µs", "CPU pipe µs",
]


def print_table(rows: list[tuple[str, ...]]) -> None:
    heads = HEADER
    full = [r for r in rows if len(r) == len(heads)]
    widths = [max(len(r[i]) for r in [heads, *full]) for i in range(len(heads))]
    for row in [heads, ["-" * w for w in widths], *rows]:
        if len(row) != len(heads):
            print(f"{row[0].ljust(widths[0])}  {row[1]}")
            continue
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].ljust(widths[2])]
        cells += [cell.rjust(w) for cell, w in zip(row[3:], widths[3:])]
        print("  ".join(cells).rstrip())


def load_average() -> str:
    with contextlib.suppress(OSError, AttributeError):
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    return "unknown"


def node_version() -> str:
    node = shutil.which("node")
    if node is None:
        return "absent"
    return subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()


def harness(cpu: int | None, repetitions: int = REPETITIONS) -> int:
    import websockets

    os.environ.setdefault("WSTUTORIAL_NODE_DIR", str(NODE_FOLDER))
    try:
        import uvloop
        uvloop_version = uvloop.__version__
    except ImportError:
        uvloop_version = None

    cores = os.cpu_count()
    print("wstutorial echo servers: the helper's, the article's Node server, a TCP floor")
    print(f"python      {platform.python_version()} ({sys.executable})")
    print(f"websockets  {websockets.__version__}; uvloop {uvloop_version or 'not installed (rows left out)'}; "
          f"node {node_version()}")
    print(f"date        {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"machine     {platform.machine()}, {platform.system()} {platform.release()}, {cores} cores, "
          f"load average {load_average()} at start")
    print(flush=True)

    started = time.perf_counter()
    servers = servers_to_compare(uvloop_version is not None)
    try:
        for server in servers:
            if server.key.startswith("node"):
                start_node_server(server, console_log=server.key == "node", cpu=cpu)
            else:
                start_python_server(server, cpu)
        active = [s for s in servers if not s.skipped]
        results: dict[str, list[dict]] = {s.key: [] for s in active}
        for repetition in range(repetitions):
            shift = repetition % len(active)
            for server in active[shift:] + active[:shift]:
                results[server.key].append(run_client(server, cpu))
    finally:
        for server in servers:
            server.stop()
    print_table(table(servers, results))
    elapsed = time.perf_counter() - started
    print()
    if cpu is not None:
        where = f"all on core {cpu} (--unpinned to let the system choose)"
    else:
        where = "unpinned: the system placed client and servers (default: all on one core)"
    notes = f"""
client  : the same for every row: LightClient in benchmarks/servers.py, a fresh Python process per run.
          A blocking socket (TCP_NODELAY); the handshake done once, offering '{OFFER}'
          as a browser does; pre-built masked frames with one FIXED mask key (fine for a benchmark,
          not for a real client); replies counted from their frame headers only (no unmasking,
          inflating or UTF-8 check; one reply per connection is first checked in full).
          Its ceiling is the TCP floor row: no server can look faster than that with this client.
p50 p99 : {ROUND_TRIPS:,} sequential 32-byte text messages, each reply awaited ({WARMUP} warm-up first).
msg/s   : {PIPELINED:,} messages pipelined: a thread writes them in batches of {BATCH} frames while the
          main thread counts replies; messages / (first write to last reply).
ratios  : ÷node = this row / the article's Node server, ÷floor = this row / the TCP floor, both from
          this run. Times: lower is faster; msg/s: higher is faster.
          Medians of {repetitions} runs per server; the servers take turns, the order rotating each run.
CPU     : the server process's own CPU time per message (all its threads, from /proc/PID/task/*/schedstat),
          in the sequential and the pipelined runs: figures the machine's other load hardly changes.
          The Node row leaves out the thread of this script that reads node's console output.
deflate : whether the server accepted permessage-deflate (it then compresses every reply).
servers : each in its own process. helper = wstutorial's serve_in_background(echo), the lesson's handler
          on the helper's background loop (it log()s every message into server.log). 'before' is the
          same with websockets' own ServerConnection (a socket write per reply), as it was before
          serve_in_background gathered the answers to messages that arrive together into one write
          (BatchedWritesConnection); '+ uvloop' makes the helper's loop under uvloop's policy.
          The Node server is the article's article-server.js through wstutorial.nodeserver
          (`ws` npm-installed into {os.environ["WSTUTORIAL_NODE_DIR"]}); it console.logs every
          message to a pipe that a thread of this script reads: that logging is the article's
          server's real cost. The no-op row (not the article's code as written) preloads
          {QUIET_NODE.name} to show what the logging costs.
cores   : {where}. One core for client and server gives
          steady round trips on a shared machine; two cores add cross-core wake-ups and more noise.
noise   : loopback on a shared machine, {cores} cores, load average {load_average()} at the end; other
          processes take turns on the same core, so under load p99 and msg/s mostly measure them
          (compare the CPU columns then). Measured in {elapsed:.0f} s."""
    print(notes.strip("\n"))
    return 0


def pin(cpu: int | None) -> None:
    """Run this thread (and what it starts from now on) on `cpu` only; None: leave it alone."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unpinned", action="store_true",
                        help="let the system place servers and client on any core (noisier: see the notes)")
    parser.add_argument("--serve", metavar="KIND", help=argparse.SUPPRESS)
    parser.add_argument("--client", metavar="PORT", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tcp", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    pin(args.cpu)
    if args.serve:
        serve(args.serve)
        return 0
    if args.client:
        print(json.dumps(measure(args.client, websocket=not args.tcp, server_pid=args.server_pid)))
        return 0
    return harness(cpu=None if args.unpinned else chosen_cpu())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
