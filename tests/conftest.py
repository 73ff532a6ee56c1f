"""Fixtures for the server and chat-client tests: real servers, real clients, always cleaned up."""

from __future__ import annotations

import socket

import pytest

import wstutorial
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
