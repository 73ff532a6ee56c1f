"""Ready-made handlers for the lessons. Each is the code a lesson shows in a cell."""

from __future__ import annotations

from websockets.asyncio.server import ServerConnection

from .server import log


async def echo(websocket: ServerConnection) -> None:
    """The article's Node server in Python: reply ``Server: <message>`` to every message."""
    log("Client connected")
    async for message in websocket:
        log(f"Received: {message}")
        await websocket.send(f"Server: {message}")
