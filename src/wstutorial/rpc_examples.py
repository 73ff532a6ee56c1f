"""The examples of section 7 of the JSON-RPC 2.0 specification, as data: what is sent, what comes back.

Request and response texts are copied from https://www.jsonrpc.org/specification (section 7,
"Examples"), whitespace included; None stands for "nothing comes back". Twelve example headings
hold fifteen exchanges (two calls each with positional and with named parameters, two
notifications). tests/test_rpc.py and lesson 06 send each one over a real WebSocket.
"""

from __future__ import annotations

import json
from typing import Any

# (title, request text, response text or None when nothing comes back), in the specification's order.
SPEC_EXAMPLES = [
    ("rpc call with positional parameters",
     '{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}',
     '{"jsonrpc": "2.0", "result": 19, "id": 1}'),
    ("rpc call with positional parameters (swapped)",
     '{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}',
     '{"jsonrpc": "2.0", "result": -19, "id": 2}'),
    ("rpc call with named parameters",
     '{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}',
     '{"jsonrpc": "2.0", "result": 19, "id": 3}'),
    ("rpc call with named parameters (reordered)",
     '{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}',
     '{"jsonrpc": "2.0", "result": 19, "id": 4}'),
    ("a Notification",
     '{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}',
     None),
    ("a Notification (of a method that does not exist)",
     '{"jsonrpc": "2.0", "method": "foobar"}',
     None),
    ("rpc call of non-existent method",
     '{"jsonrpc": "2.0", "method": "foobar", "id": "1"}',
     '{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}'),
    ("rpc call with invalid JSON",
     '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]',
     '{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}'),
    ("rpc call with invalid Request object",
     '{"jsonrpc": "2.0", "method": 1, "params": "bar"}',
     '{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}'),
    ("rpc call Batch, invalid JSON",
     """[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
]""",
     '{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}'),
    ("rpc call with an empty Array",
     "[]",
     '{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}'),
    ("rpc call with an invalid Batch (but not empty)",
     "[1]",
     """[
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}
]"""),
    ("rpc call with invalid Batch",
     "[1,2,3]",
     """[
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}
]"""),
    ("rpc call Batch",
     """[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ]""",
     """[
        {"jsonrpc": "2.0", "result": 7, "id": "1"},
        {"jsonrpc": "2.0", "result": 19, "id": "2"},
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
        {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
        {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}
    ]"""),
    ("rpc call Batch (all notifications)",
     """[
        {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
    ]""",
     None),
]

# After an example that expects no reply, this is sent at once: a server that answers in order
# answers it first exactly when the example got nothing back.
MARKER = '{"jsonrpc": "2.0", "method": "get_data", "id": "after"}'
MARKER_REPLY = '{"jsonrpc": "2.0", "result": ["hello", 5], "id": "after"}'


def canonical(text: str | bytes | None) -> Any:
    """`text` parsed, a batch sorted: the specification lets a batch's replies come in any order."""
    if text is None:
        return None
    value = json.loads(text)
    if isinstance(value, list):
        return sorted(value, key=lambda item: json.dumps(item, sort_keys=True))
    return value
