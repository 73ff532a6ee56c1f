"""How a connection ended, as values for the messages in `i18n`."""

from __future__ import annotations

from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from .i18n import t


def close_values(code: int | None, reason: str | None) -> dict[str, str]:
    """``{code}{reason}`` for "closed: code 1001 (going away)"-style messages."""
    return {"code": str(code), "reason": f" ({reason})" if reason else ""}


def close_details(closed: ConnectionClosed, lang: str | None = None) -> dict[str, str]:
    """The close code and reason of `closed`: ours if we closed first, else the peer's."""
    frame = closed.sent if closed.sent is not None else closed.rcvd
    if frame is None:  # the TCP connection dropped without a closing handshake
        return close_values(CloseCode.ABNORMAL_CLOSURE.value, t("no_close_frame", lang))
    return close_values(frame.code, frame.reason)
