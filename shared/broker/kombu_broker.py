"""RabbitMQ through kombu: publisher confirms with ``mandatory``, per-consumer prefetch, raw bodies.

Consuming and publishing use separate connections (publishing: ``kombu_publisher``). The handler
runs in a worker thread while this thread keeps draining the connection and sending heartbeats
(kombu only sends them from the drain loop, so a long handler would otherwise get its connection
reset and its messages redelivered); acks are marshalled back to this thread, since py-amqp
channels are not thread-safe. The handler gets every message already arrived, up to the batch size.

The connection thread sleeps in kombu's event loop (``kombu.asynchronous.Hub``, the connection
registered with ``register_with_event_loop``) on the broker's socket and a wake-up socket: a queued
ack or a finished handler wakes it at once. (Polling ``drain_events`` with a timeout cost up to two
timeouts per message, an ack waiting for the poll and then the next dispatch: about 40% of the
parser's time per message in the bench.)
"""

from __future__ import annotations

import queue as queue_mod
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from kombu import Connection, Consumer, Exchange
from kombu import Queue as KQueue
from kombu.asynchronous import Hub
from kombu.exceptions import OperationalError

from shared.broker.kombu_publisher import ConfirmedPublisher
from shared.broker.port import BrokerUnavailable, Delivery, Outgoing, PublishFailed
from shared.broker.topology import Topology
from shared.logging import get_logger

log = get_logger("postroom.broker")


# The longest the connection's thread sleeps before it looks at ``stop`` (and the heartbeats) again.
_TURN = 0.5


def _nothing() -> None:
    pass


class ConnectionLost(Exception):
    pass


class KombuDelivery:
    def __init__(self, session: _ConsumeSession, message: Any) -> None:
        self._session, self._message = session, message
        self.body: bytes = message.body if isinstance(message.body, bytes) else message.body.encode()
        self.headers: Mapping[str, Any] = dict(message.headers or {})
        self.queue: str = session.queue
        self.redelivered: bool = bool(message.delivery_info.get("redelivered"))

    def ack(self) -> None:
        self._session.ack([self._message])

    def retry(self, body: bytes, step: int, headers: Mapping[str, Any]) -> None:
        broker = self._session.broker
        broker._publish_one("", Outgoing(
            routing_key=broker.topology.retry_queue(self._session.consumer, step), body=body,
            message_id=self._message.properties.get("message_id", ""),
            correlation_id=self._message.properties.get("correlation_id", ""), headers=headers))
        self.ack()

    def dead_letter(self, headers: Mapping[str, Any]) -> None:
        broker = self._session.broker
        dlq = broker.topology.dead_letter_queue(self._session.consumer)
        broker._publish_one(broker.topology.dead_letter_exchange, Outgoing(
            routing_key=dlq, body=self.body,
            message_id=self._message.properties.get("message_id", ""),
            correlation_id=self._message.properties.get("correlation_id", ""),
            headers={**self.headers, **headers}))
        self.ack()


class _ConsumeSession:
    """One connection's worth of consuming; ends on stop or on a connection error."""

    def __init__(self, broker: KombuBroker, consumer: str) -> None:
        self.broker, self.consumer = broker, consumer
        self.queue = broker.topology.queue(consumer)
        self._actions: queue_mod.Queue[tuple[Callable[[], None], Future[None]]] = queue_mod.Queue()
        # Delivery tags received and not yet acked (or given back): what a ``multiple`` ack would cover.
        self._unsettled: set[int] = set()
        self._dead = False
        self._pending: deque[Any] = deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)

    def _wake(self, *_: object) -> None:
        try:
            self._wake_w.send(b"w")
        except OSError:  # the buffer is full (already awake) or the session is over
            pass

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass

    def call(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the connection's thread and wait for it (used for acks)."""
        if self._dead:
            raise ConnectionLost("the consuming connection is gone; the broker will redeliver")
        done: Future[None] = Future()
        self._actions.put((fn, done))
        self._wake()
        done.result()

    def ack(self, messages: Sequence[Any]) -> None:
        """Ack ``messages`` on the connection's thread, in one trip there."""
        self.call(lambda: self._ack_now(messages))

    def _ack_now(self, messages: Sequence[Any]) -> None:
        tags = {m.delivery_tag for m in messages}
        last = max(messages, key=lambda m: m.delivery_tag, default=None)
        if last is None:
            return
        if len(tags) > 1 and all(t in tags for t in self._unsettled if t <= last.delivery_tag):
            # One frame acks them all: no other message received up to the last one is left
            # unsettled, so ``multiple`` covers exactly these (a message kept for redelivery,
            # its outputs unpublished, is never swept up).
            last.ack(multiple=True)
        else:
            for message in sorted(messages, key=lambda m: m.delivery_tag):
                message.ack()
        self._unsettled -= tags

    def _received(self, message: Any) -> None:
        self._unsettled.add(message.delivery_tag)
        self._pending.append(message)
        self._wake()  # kombu's reader reads on from the next turn of the loop, after a poll: dispatch first

    def _run_actions(self) -> None:
        while True:
            try:
                fn, done = self._actions.get_nowait()
            except queue_mod.Empty:
                return
            try:
                fn()
                done.set_result(None)
            except Exception as exc:
                done.set_exception(exc)

    def _fail_actions(self) -> None:
        self._dead = True
        while True:
            try:
                _, done = self._actions.get_nowait()
            except queue_mod.Empty:
                return
            done.set_exception(ConnectionLost("connection lost before the ack"))

    def run(self, callback: Callable[[Sequence[Delivery]], None], stop: threading.Event,
            on_ready: Callable[[bool], None], batch: int) -> None:
        b = self.broker
        pending = self._pending
        current: Future[None] | None = None
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.consumer}-handler")
        conn = Connection(b.url, heartbeat=b.heartbeat, connect_timeout=b.timeout,
                          transport_options={"write_timeout": b.timeout})
        hub = Hub()
        try:
            conn.ensure_connection(max_retries=1)
            channel = conn.channel()
            consumer = Consumer(channel, queues=[KQueue(self.queue, no_declare=True)],
                                on_message=self._received, prefetch_count=b.prefetch, no_ack=False)
            consumer.consume()
            conn.register_with_event_loop(hub)  # kombu reads the broker's socket when it is readable
            hub.add_reader(self._wake_r, self._drain_wake)
            hub.call_repeatedly(_TURN, _nothing)  # the loop turns at least this often, to see ``stop``
            on_ready(True)
            log.info("consuming", queue=self.queue, prefetch=b.prefetch, batch=batch)
            next_beat = 0.0
            while True:
                if current is None and pending and not stop.is_set():
                    # What has arrived, up to ``batch``: never waiting for more.
                    taken = [KombuDelivery(self, pending.popleft()) for _ in range(min(batch, len(pending)))]
                    current = executor.submit(callback, taken)
                    current.add_done_callback(self._wake)
                self._run_actions()
                if current is not None and current.done():
                    exc = current.exception()
                    if exc is not None:
                        raise exc  # unsettled: the redelivery after reconnect decides
                    current = None
                    continue
                if stop.is_set() and current is None:
                    break
                hub.run_once()  # until the broker sent something, an action was queued or the handler finished
                if time.monotonic() >= next_beat:  # often enough for a heartbeat of seconds, not per message
                    conn.heartbeat_check()
                    next_beat = time.monotonic() + 1.0
            # Prefetched but not started: give them back now rather than at connection close.
            for message in pending:
                message.requeue()
            consumer.cancel()
        finally:
            on_ready(False)
            self._fail_actions()
            if current is not None:
                current.exception()  # let the handler finish before the connection goes
            executor.shutdown(wait=True)
            hub.close()
            try:
                conn.release()
            except Exception:
                pass
            self._wake_r.close()
            self._wake_w.close()


class KombuBroker:
    def __init__(self, url: str, topology: Topology, *, prefetch: int = 8, heartbeat: int = 30,
                 timeout: float = 10.0) -> None:
        self.url, self.topology = url, topology
        self.prefetch, self.heartbeat, self.timeout = prefetch, heartbeat, timeout
        self._publisher = ConfirmedPublisher(url, timeout)

    def declare(self, connect_retries: int = 3) -> None:
        with Connection(self.url, connect_timeout=self.timeout) as conn:
            try:
                conn.ensure_connection(max_retries=connect_retries, interval_start=0.5)
            except (OperationalError, OSError) as exc:  # kombu wraps the socket's error in its own
                raise BrokerUnavailable(f"{type(exc).__name__}: {exc}") from None
            ch = conn.channel()
            Exchange(self.topology.exchange, "topic", durable=True)(ch).declare()
            Exchange(self.topology.dead_letter_exchange, "direct", durable=True)(ch).declare()
            for decl in self.topology.declarations():
                ch.queue_declare(decl.name, durable=True, auto_delete=False, arguments=decl.arguments)
                for key in decl.binds:
                    ch.queue_bind(decl.name, self.topology.exchange, key)
                if decl.dlx_key:
                    ch.queue_bind(decl.name, self.topology.dead_letter_exchange, decl.dlx_key)

    def publish(self, messages: Sequence[Outgoing]) -> None:
        if messages:
            self._publish_one(self.topology.exchange, *messages)

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        by_session: dict[_ConsumeSession, list[Any]] = {}
        for delivery in deliveries:
            assert isinstance(delivery, KombuDelivery), "only this broker's deliveries"
            by_session.setdefault(delivery._session, []).append(delivery._message)
        for session, messages in by_session.items():
            session.ack(messages)

    def publish_groups(self, groups: Sequence[Sequence[Outgoing]]) -> list[PublishFailed | None]:
        if not any(groups):
            return [None for _ in groups]
        return self._publisher.publish(self.topology.exchange, groups)

    def _publish_one(self, exchange: str, *messages: Outgoing) -> None:
        failed = self._publisher.publish(exchange, [messages])[0]
        if failed is not None:
            raise failed

    def consume(self, consumer: str, callback: Callable[[Sequence[Delivery]], None], stop: threading.Event,
                on_ready: Callable[[bool], None] = lambda ready: None, batch: int = 1) -> None:
        backoff = 0.5
        while not stop.is_set():
            started = time.monotonic()
            try:
                _ConsumeSession(self, consumer).run(callback, stop, on_ready, max(1, batch))
            except Exception as exc:
                log.warning("consume interrupted", consumer=consumer, error=f"{type(exc).__name__}: {exc}")
                if time.monotonic() - started > 30:
                    backoff = 0.5
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def close(self) -> None:
        self._publisher.close()
