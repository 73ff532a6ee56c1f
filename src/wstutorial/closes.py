"""How a connection ended, as values for the messages in `i18n`."""

from __future__ import annotations

from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode


def close_details(closed: ConnectionClosed) -> dict[str, str]:
    """The close code and reason of `closed`: ours if we closed first, else the peer's."""
    frame = closed.sent if closed.sent is not None else closed.rcvd
    if frame is None:  # the TCP connection dropped without a closing handshake
        return {"code": str(CloseCode.ABNORMAL_CLOSURE.value), "reason": " (no close frame)"}
    return {"code": str(frame.code), "reason": f" ({frame.reason})" if frame.reason else ""}
