"""Test clean-up on the real broker with pika (operator-style tooling, not service code)."""

from __future__ import annotations

import pika

from shared.broker.topology import Topology


def _params(amqp_url: str) -> pika.URLParameters:
    # kombu writes the default vhost "/" as a trailing "//"; pika wants it percent-encoded.
    if amqp_url.endswith("//"):
        amqp_url = amqp_url[:-2] + "/%2F"
    return pika.URLParameters(amqp_url)


# Every test that talks to RabbitMQ uses this ladder, so clean-up knows the retry queue names.
TEST_RETRY_DELAYS = (0.2, 0.5)
# The outage rungs (the notifier's SMTP backoff) in tests: the cap is the last.
TEST_OUTAGE_DELAYS = (0.2, 0.5, 1.0)


def delete_topology(amqp_url: str, *topologies: Topology) -> None:
    """Remove the queues and exchanges of ``topologies`` from a shared broker."""
    conn = pika.BlockingConnection(_params(amqp_url))
    try:
        ch = conn.channel()
        for topology in topologies:
            for decl in topology.declarations():
                ch.queue_delete(decl.name)
            ch.exchange_delete(topology.exchange)
            ch.exchange_delete(topology.dead_letter_exchange)
    finally:
        conn.close()


def delete_namespace(amqp_url: str, namespace: str) -> None:
    delete_topology(amqp_url, Topology(namespace=namespace),
                    Topology(namespace=namespace, retry_delays=TEST_RETRY_DELAYS, outage_delays=TEST_OUTAGE_DELAYS))


def queue_depth(amqp_url: str, queue: str) -> int:
    conn = pika.BlockingConnection(_params(amqp_url))
    try:
        return conn.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        conn.close()


def get_all(amqp_url: str, queue: str) -> list[tuple[bytes, dict]]:
    """Read (and settle) every message of ``queue``."""
    conn = pika.BlockingConnection(_params(amqp_url))
    out: list[tuple[bytes, dict]] = []
    try:
        ch = conn.channel()
        while True:
            method, props, body = ch.basic_get(queue, auto_ack=True)
            if method is None:
                return out
            out.append((body, dict(props.headers or {})))
    finally:
        conn.close()
