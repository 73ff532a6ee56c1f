"""Fixtures for the server and chat-client tests: real servers, real clients, always cleaned up."""

from __future__ import annotations

import hashlib
import itertools
import socket
import ssl

import pytest
import trustme

import wstutorial
import wstutorial.reruns
from wstutorial import ChatClient, echo, serve_in_background


@pytest.fixture
def english():
    """Messages in English for the test; the language from before is restored afterwards."""
    previous = wstutorial.get_language()
    wstutorial.set_language("en")
    yield
    wstutorial.set_language(previous)


@pytest.fixture
def start_server():
    """`serve_in_background` for a test; every server it started is stopped at the end."""
    servers = []

    def start(handler, **options):
        server = serve_in_background(handler, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def echo_server(start_server):
    return start_server(echo)


@pytest.fixture
def chat():
    """`ChatClient` for a test; every client it made is closed at the end."""
    clients = []

    def make(url, **kwargs):
        client = ChatClient(url, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def free_port():
    """A port nothing listens on (taken from the OS, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def run_cell(monkeypatch):
    """Run source as a notebook cell would: in ``__main__``, numbered like IPython's executions.

    Returns the cell's namespace; keyword arguments are names the cell can use.
    """
    executions = itertools.count(1)
    running = {"execution": None}
    monkeypatch.setattr(wstutorial.reruns, "current_execution", lambda: running["execution"])

    def run(source, **names):
        running["execution"] = next(executions)
        namespace = {"__name__": "__main__", **names}
        # ipykernel files each cell's code under a hash of its source, as here.
        filename = f"/tmp/ipykernel/{hashlib.sha1(source.encode()).hexdigest()[:8]}.py"
        exec(compile(source, filename, "exec"), namespace)
        return namespace

    return run


# TLS without the Internet (lesson 07): a local certificate authority made by trustme, a server
# context holding a certificate it signed, and a client context that trusts it.


@pytest.fixture(scope="session")
def ca():
    return trustme.CA()


@pytest.fixture(scope="session")
def server_context(ca):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="session")
def trusting(ca):
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context
