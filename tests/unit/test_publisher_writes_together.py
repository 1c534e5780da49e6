"""A batch of publishes is corked while py-amqp writes it and uncorked after, whatever happens."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from shared.broker.kombu_publisher import _writes_together



@pytest.fixture
def tcp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as py-amqp sets it
        peer, _ = server.accept()
        yield client, peer
        client.close()
        peer.close()


def corked(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_CORK))


def test_the_frames_written_in_the_block_all_arrive_once_it_ends(tcp_pair: tuple[socket.socket, socket.socket]) -> None:
    client, peer = tcp_pair
    frames = [bytes([i]) * 300 for i in range(32)]
    with _writes_together(client):
        assert corked(client)
        for frame in frames:
            client.sendall(frame)
    assert not corked(client)
    peer.settimeout(2.0)
    received = b""
    while len(received) < 32 * 300:
        received += peer.recv(65536)
    assert received == b"".join(frames)


def test_the_socket_is_uncorked_after_a_failed_block(tcp_pair: tuple[socket.socket, socket.socket]) -> None:
    client, _ = tcp_pair
    with pytest.raises(RuntimeError), _writes_together(client):
        raise RuntimeError("a publish failed")
    assert not corked(client)


def test_a_socket_closed_inside_the_block_does_not_hide_the_error(tcp_pair: tuple[socket.socket, socket.socket]) -> None:
    client, _ = tcp_pair
    with pytest.raises(RuntimeError, match="broker gone"), _writes_together(client):
        client.close()
        raise RuntimeError("broker gone")
