"""Run a websockets handler in the background, so that a notebook keeps going while it serves.

    server = serve_in_background(echo)   # 127.0.0.1, a free port; returns once listening
    server.url                           # "ws://127.0.0.1:PORT"
    server.log                           # what the handlers recorded with log(...)
    server.stop()                        # idempotent; clients get 1001; the port is free again

The handler is plain websockets code, ``async def handler(websocket)``, exactly what a learner would
pass to ``websockets.asyncio.server.serve``. It runs on the helper's background loop (see `loop`).
Nothing here prints: a background thread that prints writes into whichever cell happens to be
running, so events go to ``server.log`` and a cell shows them.
"""

from __future__ import annotations

import asyncio
import errno
import inspect
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK
from websockets.frames import CloseCode
from websockets.protocol import State

from . import loop, reruns
from .closes import close_details
from .i18n import t
from .logs import LogToList

Handler = Callable[[ServerConnection], Awaitable[None]]

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
CLOSE_GRACE = 0.2  # how long stop() from a cell waits for clients to answer the close (see _end_unanswered_closes)

_running: weakref.WeakSet[BackgroundServer] = weakref.WeakSet()


class PortInUseError(OSError):
    """The port asked for is taken. The message says by whom, when it is one of ours."""

    def __init__(self, host: str, port: int, owner: BackgroundServer | None) -> None:
        self.host, self.port, self.owner = host, port, owner
        where = t("port_owner", url=owner.url) if owner is not None else ""
        super().__init__(errno.EADDRINUSE, t("port_in_use", host=host, port=port, owner=where))

    def __str__(self) -> str:
        return self.strerror


def log(text: object) -> None:
    """Record `text` in the log of the server running the current handler.

    The notebook's answer to the article's ``console.log``: a cell shows ``server.log``.
    """
    try:
        server = loop.current_server.get()
    except LookupError:
        raise RuntimeError(t("log_outside_handler")) from None
    server.log.append(str(text))


class BatchedWritesConnection(ServerConnection):
    """websockets' ServerConnection, answering a backlog of received messages in one write.

    websockets writes every frame to the socket at once: a system call per message. When a client
    sends many messages in one go, they arrive together and the handler answers them one after the
    other in the same turn of the event loop. While more received messages wait to be read, the
    answers are gathered, and they leave together with the answer to the last one (or at the end
    of the turn, whatever comes first). An answer with nothing waiting behind it, the usual
    one-message-at-a-time case, is written at once, exactly as websockets does. The socket carries
    the same bytes in the same order. The gathered bytes are also written out as soon as they reach
    `write_limit` (websockets' flow control then applies as before: a handler sending to a client
    that does not read still waits in ``send``) and before the end of the stream.
    benchmarks/servers.py measures the gain.
    """

    _batch: list[bytes] | None = None  # answers gathered in this turn of the loop
    _batch_size = 0

    def send_data(self) -> None:
        chunks = self.protocol.data_to_send()
        if not chunks:
            return
        if self._batch is None:
            if not chunks[-1] or not self._messages_waiting():
                self._write(chunks)
                return
            self._batch, self._batch_size = [], 0
            self.loop.call_soon(self._flush)  # at the latest at the end of this turn
        self._batch += chunks
        self._batch_size += sum(map(len, chunks))
        if not chunks[-1] or self._batch_size >= self.write_limit_high or not self._messages_waiting():
            self._flush()

    def _messages_waiting(self) -> bool:
        """Whether received messages wait to be read, so that more answers may follow in this turn."""
        frames = getattr(self.recv_messages, "frames", None)  # websockets' Assembler queue
        try:
            return bool(frames is not None and len(frames))
        except TypeError:  # another websockets version: never gather, write each at once
            return False

    def _flush(self) -> None:
        batch, self._batch, self._batch_size = self._batch, None, 0
        if not batch:
            return
        try:
            self._write(batch)
        except Exception as error:
            # What websockets' send_context does when a write fails: end the connection.
            self.set_connection_exc(error)
            self.transport.abort()

    def _write(self, chunks: list[bytes]) -> None:
        if data := b"".join(chunks):
            self.transport.write(data)
        if not chunks[-1]:
            # The end of the stream (b""), after the last frame: half-close as websockets does.
            if self.transport.can_write_eof():
                try:
                    self.transport.write_eof()
                except Exception:  # websockets ignores these too (uvloop raises RuntimeError)
                    pass
            else:
                self.transport.close()


class BackgroundServer:
    """A websockets server on the helper's background loop. Make one with `serve_in_background`."""

    def __init__(self, handler: Handler, host: str, port: int, options: dict[str, Any]) -> None:
        if not _is_async_callable(handler):
            raise TypeError(t("handler_not_async", name=getattr(handler, "__name__", "handler")))
        self.handler = handler
        self.host = host
        self.options = options
        self.log: list[str] = []
        self.errors: list[BaseException] = []
        self.port = port
        self._server: Server | None = None
        self._logger = LogToList(self.log)
        self._rerun_keys: list[Hashable] = []  # the notebook cell that made it, if any
        # Connections stop() closed without the client's answer to the close frame (see stop).
        self._closed_unanswered: weakref.WeakSet[ServerConnection] = weakref.WeakSet()
        # Every connection, opening ones too: websockets' own set holds only those past the handshake.
        self._every_connection: weakref.WeakSet[ServerConnection] = weakref.WeakSet()

    @property
    def url(self) -> str:
        """The address clients connect to, e.g. ``ws://127.0.0.1:54321``."""
        scheme = "wss" if self.options.get("ssl") is not None else "ws"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.close_task is None

    @property
    def connections(self) -> set[ServerConnection]:
        """The connections open now, to look at. To send to them all, use `broadcast`."""
        return set(self._server.connections) if self._server is not None else set()

    def broadcast(self, message: str | bytes) -> None:
        """Send `message` to every open connection now, without being asked: a server push.

        Works from a cell and from inside a handler; websockets' ``broadcast`` always runs on the
        server's own loop, as asyncio requires.
        """
        if not self.running:
            return
        if loop.in_loop_thread():
            broadcast(self._server.connections, message)
        else:
            loop.run(self._broadcast(message), timeout=STOP_TIMEOUT)

    async def _broadcast(self, message: str | bytes) -> None:
        broadcast(self._server.connections, message)

    def start(self) -> BackgroundServer:
        """Start listening (again, after `stop`, on the same port); returns once listening."""
        if self.running:
            return self
        loop.run(self._start(), timeout=START_TIMEOUT)
        _running.add(self)
        reruns.remember(self._rerun_keys, self)  # restarted by hand, it is still its cell's server
        return self

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Close the server: open connections get 1001 (going away), the port is free on return.

        Handlers get `timeout` seconds to return after their connection closes; one that does
        not (it never awaits the connection) is cancelled, so stop() always comes back. Called from
        a notebook cell, it waits CLOSE_GRACE seconds at most for clients to answer the close
        frame: those on the kernel's own loop cannot answer while stop() blocks that loop.
        """
        reruns.forget(self)
        if not self.running:
            return
        # Called on a thread that runs an event loop (a notebook cell: the kernel's loop), stop()
        # blocks that loop, and the clients living on it cannot answer the close frame until it
        # returns: waiting for their answer would only wait for the timeout.
        grace = CLOSE_GRACE if _runs_an_event_loop() else None
        loop.run(self._stop(timeout, grace), timeout=timeout + STOP_TIMEOUT)
        _running.discard(self)

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<BackgroundServer {_name(self.handler)} {self.url} {state}>"

    async def _start(self) -> None:
        try:
            connection_class = self.options.get("create_connection", BatchedWritesConnection)

            def create_connection(*args: Any, **kwargs: Any) -> ServerConnection:
                connection = connection_class(*args, **kwargs)
                self._every_connection.add(connection)
                return connection

            options = {**self.options, "create_connection": create_connection}
            self._server = await serve(
                self._run_handler, self.host, self.port, logger=self._logger, **options
            )
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            owner = next((s for s in running_servers() if s.port == self.port), None)
            raise PortInUseError(self.host, self.port, owner) from None
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self, timeout: float, grace: float | None) -> None:
        assert self._server is not None
        connections = list(self._server.all_connections)
        self._server.close()  # websockets sends 1001 and waits for each client to answer it
        for connection in connections:
            _read_to_the_end(connection)
        for connection in self._opening_connections():
            # A browser opens spare sockets ahead of need and may never send a request on them:
            # websockets would wait open_timeout (10 s) for one. The server is going away.
            connection.transport.abort()
        try:
            async with asyncio.timeout(timeout):
                if grace is not None:
                    await self._end_unanswered_closes(connections, grace)
                await self._connections_and_handlers_done()
        except TimeoutError:
            self.log.append(t("stop_forced", timeout=timeout))
            for task in list(self._server.handler_tasks):
                task.cancel()
            # A peer that stopped reading leaves even the close frame stuck in a full buffer.
            for connection in list(self._every_connection):
                if hasattr(connection, "transport"):  # set once the socket is connected
                    connection.transport.abort()
            await self._connections_and_handlers_done()

    async def _connections_and_handlers_done(self) -> None:
        # Not asyncio's Server.wait_closed(): on Python 3.12 it also waits for sockets still in
        # their TLS handshake, which no ServerConnection can reach yet (up to open_timeout).
        # The listening socket is already closed, so the port is free.
        waiters = [c.connection_lost_waiter for c in list(self._every_connection) if hasattr(c, "transport")]
        waiters += list(self._server.handler_tasks)
        if waiters:
            await asyncio.wait(waiters)

    def _opening_connections(self) -> list[ServerConnection]:
        return [
            c for c in self._every_connection if c.protocol.state is State.CONNECTING and hasattr(c, "transport")
        ]

    async def _end_unanswered_closes(self, connections: list[ServerConnection], grace: float) -> None:
        """Give clients `grace` seconds to answer the close frame, then end TCP without their answer.

        For stop() called from a notebook cell: the clients the cell's notebook opened with
        ``await connect(...)`` live on the kernel's loop, which stop() blocks, so none of them can
        answer before stop() returns (websockets would wait close_timeout, 10 s, then stop() its
        own timeout). The close frame reaches them all the same: closing the transport writes out
        what is buffered, the close frame last, before the end of the stream, so such a client
        reads 1001 as soon as its loop runs again. Clients elsewhere (a browser, node, a
        ChatClient) answer within milliseconds and close cleanly.
        """
        waiting = [asyncio.ensure_future(c.wait_closed()) for c in connections]
        if not waiting:
            return
        try:
            await asyncio.wait(waiting, timeout=grace)
        finally:
            for waiter in waiting:
                waiter.cancel()  # wait_closed() shields the connection's own future
        for connection in connections:
            # CLOSING or CLOSED: the close frame went out (one still opening gets websockets' 503).
            closing = connection.protocol.state in (State.CLOSING, State.CLOSED)
            if closing and not connection.connection_lost_waiter.done():
                self._closed_unanswered.add(connection)
                if connection.transport.get_extra_info("sslcontext") is not None:
                    # TLS: close() would wait for the client's close_notify, which it cannot send
                    # either (ssl_shutdown_timeout, 30 s). The close frame has left already.
                    connection.transport.abort()
                else:
                    connection.transport.close()

    async def _run_handler(self, websocket: ServerConnection) -> None:
        # Runs in the task websockets made for this connection, so log() finds this server.
        loop.current_server.set(self)
        try:
            await self.handler(websocket)
        except ConnectionClosedOK:
            pass
        except ConnectionClosed as closed:
            if websocket not in self._closed_unanswered:  # stop() ended it on purpose: not lost
                self.log.append(t("connection_lost", **close_details(closed)))
        except Exception as error:
            # One client's failure closes that client alone (1011); the server keeps serving.
            self.errors.append(error)
            self.log.append(t("handler_error", error=f"{type(error).__name__}: {error}"))
            await websocket.close(CloseCode.INTERNAL_ERROR, "internal error")


def serve_in_background(
    handler: Handler, host: str = "127.0.0.1", port: int = 0, **options: Any
) -> BackgroundServer:
    """Serve `handler` on `host`:`port` from a background thread; return once it is listening.

    `port=0` (the default) takes a free port, so thirty learners on one machine never collide.
    Extra keyword arguments go to ``websockets.asyncio.server.serve`` (max_size, origins, ssl,
    process_request, ...). A busy port raises `PortInUseError`, which says what to do.

    Run again from the same notebook cell (or for a handler the notebook redefined), it replaces
    the server that cell started before, so no orphan server keeps a port and a thread busy.
    """
    server = BackgroundServer(handler, host, port, options)
    defined_in_notebook = getattr(handler, "__module__", None) == "__main__"
    keys = reruns.cell_keys("server", depth=1, notebook_name=_name(handler) if defined_in_notebook else None)
    server._rerun_keys = keys
    earlier = [s for s in reruns.started_before(keys) if s.running]  # keys name their kind: all servers
    for old in earlier:
        if port and old.port == port:
            old.stop()  # the new server needs this very port
    server.start()  # on failure, the earlier servers on other ports keep running
    for old in earlier:
        if old.running:
            old.stop()
        server.log.append(t("replaced", name=_name(old.handler), url=old.url))
    return server


def running_servers() -> list[BackgroundServer]:
    """Every server started here and not stopped yet."""
    return [server for server in list(_running) if server.running]


def _read_to_the_end(connection: ServerConnection) -> None:
    """Keep reading `connection` until it closes, whatever its handler does: for stop().

    A handler stuck sending to a slow client reads none of the messages that client sent, so
    websockets' flow control (max_queue) pauses reading the socket, and the client's answer to the
    close frame would wait behind them until close_timeout (10 s) while the handler waits for the
    close in ``send``. The server is going away: flow control is switched off (what
    ``max_queue=None`` does) so that it cannot pause again, and reading resumes.
    """
    connection.recv_messages.high = None  # websockets' Assembler: None means no flow control
    connection.transport.resume_reading()


def _runs_an_event_loop() -> bool:
    """Whether the calling thread is running an asyncio event loop (a notebook cell's thread is)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _is_async_callable(handler: object) -> bool:
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)
    )


def _name(handler: object) -> str:
    return getattr(handler, "__qualname__", None) or type(handler).__qualname__
