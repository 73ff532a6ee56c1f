"""wstutorial: real-time communication with WebSocket, as lessons that run.

The lessons keep what they teach (the handler, connect, send, receive) in their cells; this
package carries the plumbing: a background event loop, servers that start and stop cleanly, and
the article's client page as a widget.
"""

from .chat import ChatClient, NotConnectedError
from .exercises import check_greeter
from .handlers import echo
from .i18n import get_language, set_language
from .loop import LoopBlockedError
from .proxies import bypass_proxies_for_loopback
from .server import BackgroundServer, PortInUseError, log, running_servers, serve_in_background
from .setup_check import check_setup

bypass_proxies_for_loopback()

__all__ = [
    "BackgroundServer",
    "ChatClient",
    "LoopBlockedError",
    "NotConnectedError",
    "PortInUseError",
    "check_greeter",
    "check_setup",
    "echo",
    "get_language",
    "log",
    "running_servers",
    "serve_in_background",
    "set_language",
]
