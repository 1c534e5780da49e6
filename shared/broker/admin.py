"""Operator access to RabbitMQ over AMQP with pika (``postroom queues``, ``postroom dlq``).

pika is blocking and not thread-safe, which suits one-shot operator commands; the services use
kombu. Nothing here needs a broker plugin: exact per-queue figures come from a passive
``queue.declare``, whose reply carries the queue's ready-message and consumer counts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import ChannelClosedByBroker, NackError, UnroutableError

from shared.broker.deadletters import DeadLetter, collapse, letter_id, replay_body, replay_headers
from shared.broker.topology import Topology


def connection_parameters(amqp_url: str) -> pika.URLParameters:
    # kombu writes the default vhost "/" as a trailing "//"; pika wants it percent-encoded.
    if amqp_url.endswith("//"):
        amqp_url = amqp_url[:-2] + "/%2F"
    return pika.URLParameters(amqp_url)


@contextmanager
def connect(amqp_url: str) -> Iterator[pika.BlockingConnection]:
    conn = pika.BlockingConnection(connection_parameters(amqp_url))
    try:
        yield conn
    finally:
        if conn.is_open:
            conn.close()


@dataclass(frozen=True)
class QueueCounts:
    ready: int
    consumers: int


def queue_counts(amqp_url: str, names: Sequence[str]) -> dict[str, QueueCounts | None]:
    """Ready messages and consumers of each queue; ``None`` for a queue that does not exist."""
    out: dict[str, QueueCounts | None] = {}
    with connect(amqp_url) as conn:
        channel: BlockingChannel = conn.channel()
        for name in names:
            try:
                ok = channel.queue_declare(name, passive=True).method
                out[name] = QueueCounts(ready=ok.message_count, consumers=ok.consumer_count)
            except ChannelClosedByBroker as exc:
                if exc.reply_code != 404:
                    raise
                out[name] = None  # a passive declare of a missing queue closes the channel
                channel = conn.channel()
    return out


class ReplayFailed(Exception):
    """The broker did not confirm the replayed message; the dead letter stays where it was."""


class DeadLetterInbox:
    """The dead-letter queues, read without losing a letter.

    Each letter is fetched with ``basic.get`` and left unacknowledged on a channel of this
    connection, then settled one by one (acked after a confirmed replay, or discarded), or given
    back with ``basic.nack(requeue=True)`` on close; if this process dies, the broker gives them
    back as well. A quorum queue counts each give-back as a delivery (``x-delivery-count``): the
    DLQs are declared without ``x-delivery-limit``, so reading them never drops a letter (a policy
    adding a delivery limit to them would break that).
    """

    def __init__(self, conn: pika.BlockingConnection, topology: Topology) -> None:
        self._conn, self._topology = conn, topology
        self._channels: dict[str, BlockingChannel] = {}
        self._unsettled: dict[str, list[int]] = {}

    def _channel(self, consumer: str) -> BlockingChannel:
        if consumer not in self._channels:
            channel = self._conn.channel()
            channel.confirm_delivery()  # for replays: publish, wait for the broker's ack, then settle
            self._channels[consumer], self._unsettled[consumer] = channel, []
        return self._channels[consumer]

    def read(self, consumer: str, limit: int | None = None) -> list[DeadLetter]:
        """The letters of ``consumer``'s dead-letter queue, copies of one letter read as one
        (``collapse``); ``limit`` counts the messages read."""
        dlq = self._topology.dead_letter_queue(consumer)
        channel = self._channel(consumer)
        try:
            present = channel.queue_declare(dlq, passive=True).method.message_count
        except ChannelClosedByBroker as exc:
            if exc.reply_code != 404:
                raise
            del self._channels[consumer]
            return []
        letters = []
        # Only as many as were there when we looked: a letter replayed by someone else and
        # dead-lettered again meanwhile must not make this loop endless.
        for _ in range(present if limit is None else min(present, limit)):
            method, props, body = channel.basic_get(dlq, auto_ack=False)
            if method is None:
                break
            self._unsettled[consumer].append(method.delivery_tag)
            letters.append(DeadLetter(id=letter_id(body), consumer=consumer, dlq=dlq, body=body,
                                      headers=dict(props.headers or {}), message_id=props.message_id,
                                      correlation_id=props.correlation_id, tag=method.delivery_tag))
        return collapse(letters)

    def replay(self, letter: DeadLetter) -> str:
        """Send the letter back to its consumer's own work queue (confirmed), then remove it."""
        # Through the default exchange straight to the work queue, not the topic exchange with its
        # routing key: another consumer bound to the same key already handled this message.
        work = self._topology.queue(letter.consumer)
        channel = self._channel(letter.consumer)
        props = pika.BasicProperties(content_type="application/json", content_encoding="utf-8", delivery_mode=2,
                                     message_id=letter.message_id, correlation_id=letter.correlation_id,
                                     headers=replay_headers(letter))
        try:
            channel.basic_publish("", work, replay_body(letter.body), props, mandatory=True)
        except UnroutableError:
            raise ReplayFailed(f"no queue {work!r} to replay into (is the topology declared?)") from None
        except NackError:
            raise ReplayFailed(f"the broker refused the replay into {work!r}") from None
        self._settle(letter)
        return work

    def discard(self, letter: DeadLetter) -> None:
        self._settle(letter)

    def _settle(self, letter: DeadLetter) -> None:
        for tag in (letter.tag, *letter.copies):
            self._channels[letter.consumer].basic_ack(tag)
            self._unsettled[letter.consumer].remove(tag)

    def close(self) -> None:
        for consumer, channel in self._channels.items():
            if channel.is_open:
                for tag in self._unsettled[consumer]:
                    channel.basic_nack(tag, requeue=True)
                channel.close()  # waits for close-ok, so the nacks are processed before we go
        self._channels.clear()


@contextmanager
def dead_letter_inbox(amqp_url: str, topology: Topology) -> Iterator[DeadLetterInbox]:
    with connect(amqp_url) as conn:
        inbox = DeadLetterInbox(conn, topology)
        try:
            yield inbox
        finally:
            inbox.close()
