"""Publishing to RabbitMQ with publisher confirms and ``mandatory``, many messages outstanding at
once: a batch's outputs cost one round trip, not one each.

kombu opens the connection; messages go straight to its py-amqp channel. kombu's ``Producer`` adds
nothing we use (our bodies are bytes already) and cost more CPU than the frames themselves; its
per-publish ``timeout`` set and reset the socket's timeout twice per message. The write timeout is
set on the socket once instead (``SO_SNDTIMEO``), so a broker that stops reading still fails the
publish rather than hanging it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from amqp import Message
from kombu import Connection

from shared.broker.port import Outgoing, PublishFailed


class _Confirms:
    """Publisher confirms of one channel with many messages outstanding: after ``confirm.select`` the
    broker numbers publishes 1, 2, ... and acks or nacks each, or every tag up to one (``multiple``),
    possibly out of order across queues. A ``basic.return`` (``mandatory``, no queue bound) arrives
    before the ack of the message it returns, so once every tag is settled every return is known."""

    def __init__(self) -> None:
        self.sent = 0
        self.outstanding: set[int] = set()
        self.nacked: set[int] = set()
        self.returned: list[tuple[str, str]] = []  # (routing key, message id)

    def published(self) -> int:
        self.sent += 1
        self.outstanding.add(self.sent)
        return self.sent

    def _settle(self, tag: int, multiple: bool) -> set[int]:
        done = {t for t in self.outstanding if t <= tag} if multiple else {tag} & self.outstanding
        self.outstanding -= done
        return done

    def on_ack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple)

    def on_nack(self, tag: int, multiple: bool) -> None:
        self.nacked |= self._settle(tag, multiple)

    def on_return(self, exception: Exception, exchange: str, routing_key: str, message: Any) -> None:
        self.returned.append((routing_key, (getattr(message, "properties", None) or {}).get("message_id", "")))


@contextmanager
def _writes_together(sock: socket.socket) -> Iterator[None]:
    """Sends the frames py-amqp writes inside the block in as few TCP segments as possible.

    py-amqp writes each message with a ``sendall`` of its own, and sets ``TCP_NODELAY``: a batch of
    32 outputs went out as 32 segments for both ends to process, about a third of the publishing
    CPU. ``TCP_CORK`` (Linux) makes the kernel hold partial segments until the block ends, when
    uncorking sends the rest at once; it is a socket option, so py-amqp's writing is left alone.
    Elsewhere the frames go as py-amqp sends them.
    """
    cork = getattr(socket, "TCP_CORK", None)
    if cork is None:
        yield
        return
    sock.setsockopt(socket.IPPROTO_TCP, cork, 1)
    try:
        yield
    finally:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, cork, 0)
        except OSError:  # the connection is gone: the caller drops it
            pass


class ConfirmedPublisher:
    """Publishes groups of messages on one channel, then waits once for every confirm."""

    def __init__(self, url: str, timeout: float) -> None:
        self._url, self._timeout = url, timeout
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._channel: Any = None  # the py-amqp channel
        self._confirms = _Confirms()

    def _ensure(self) -> Any:
        if self._channel is None:
            # No heartbeat on the publishing connection: nothing drains it between publishes.
            # A dead connection shows at the next publish, which reconnects once.
            self._conn = Connection(self._url, heartbeat=0, connect_timeout=self._timeout,
                                    transport_options={"write_timeout": self._timeout})
            self._conn.ensure_connection(max_retries=2, interval_start=0.2, interval_step=0.5)
            channel = self._conn.channel()
            # Confirms driven here rather than by kombu's ``confirm_publish``, which waits for each
            # message's confirm before sending the next: a batch pays one round trip, not one each.
            self._confirms = _Confirms()
            channel.confirm_select()
            channel.events["basic_ack"].add(self._confirms.on_ack)
            channel.events["basic_nack"].add(self._confirms.on_nack)
            channel.events["basic_return"].add(self._confirms.on_return)
            self._channel = channel
        return self._channel

    def publish(self, exchange: str, groups: Sequence[Sequence[Outgoing]]) -> list[PublishFailed | None]:
        with self._lock:
            for attempt in (1, 2):
                try:
                    return self._publish(exchange, groups)
                except Exception as exc:  # connection-level: reconnect once, then give up
                    self.close()
                    if attempt == 2:
                        failed = PublishFailed(f"publish failed: {type(exc).__name__}: {exc}")
                        return [failed if group else None for group in groups]
        raise AssertionError("unreachable")

    def _publish(self, exchange: str, groups: Sequence[Sequence[Outgoing]]) -> list[PublishFailed | None]:
        channel = self._ensure()
        confirms = self._confirms
        confirms.returned.clear()
        tags: list[list[int]] = []
        with _writes_together(channel.connection.sock):
            for group in groups:
                tags.append([])
                for msg in group:
                    channel.basic_publish(
                        Message(msg.body, delivery_mode=2, content_type="application/json",
                                content_encoding="utf-8", application_headers=dict(msg.headers),
                                message_id=msg.message_id, correlation_id=msg.correlation_id),
                        exchange=exchange, routing_key=msg.routing_key, mandatory=True,
                    )
                    tags[-1].append(confirms.published())
        deadline = time.monotonic() + self._timeout
        while confirms.outstanding:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(confirms.outstanding)} publishes not confirmed in {self._timeout:g} s")
            assert self._conn is not None
            self._conn.drain_events(timeout=left)
        returned = set(confirms.returned)
        results: list[PublishFailed | None] = []
        for group, group_tags in zip(groups, tags, strict=True):
            nacked = [m for m, t in zip(group, group_tags, strict=True) if t in confirms.nacked]
            # Matched by routing key and message id: two messages alike in both fail together.
            lost = [m for m in group if (m.routing_key, m.message_id) in returned]
            if nacked:
                results.append(PublishFailed(f"broker nacked {nacked[0].routing_key}"))
            elif lost:
                results.append(PublishFailed(f"unroutable: no queue bound to {lost[0].routing_key!r} on {exchange!r}"))
            else:
                results.append(None)
        confirms.nacked.clear()
        return results

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.release()
            except Exception:  # already dead
                pass
        self._conn, self._channel = None, None
