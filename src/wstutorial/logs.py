"""Loggers for websockets that write into a list a cell can show, never to the notebook's stderr."""

from __future__ import annotations

import logging

from .i18n import t


class LogToList(logging.Logger):
    """Warnings and errors from websockets go to `entries`; nothing propagates to the root logger."""

    def __init__(self, entries: list[str]) -> None:
        super().__init__("wstutorial", level=logging.WARNING)
        self.propagate = False
        self._entries = entries

    def handle(self, record: logging.LogRecord) -> None:
        self._entries.append(t("server_note", text=record.getMessage()))
