"""What every service's ``__main__`` does the same way: broker from settings, health endpoint,
SIGTERM handling, and the consume loop."""

from __future__ import annotations

import random
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

from shared.broker.port import Broker, BrokerUnavailable
from shared.broker.topology import Topology
from shared.health import HealthState, serve_health
from shared.logging import get_logger
from shared.runner import BatchHandler, Handler, Runner
from shared.settings import CommonSettings

log = get_logger("postroom.service")


def topology_from(settings: CommonSettings) -> Topology:
    return Topology(namespace=settings.broker_namespace, retry_delays=settings.retry_delays,
                    outage_delays=settings.outage_retry_delays, delivery_limit=settings.delivery_limit)


def broker_from(settings: CommonSettings) -> Broker:
    from shared.broker.kombu_broker import KombuBroker

    return KombuBroker(settings.amqp_url, topology_from(settings), prefetch=settings.prefetch,
                       heartbeat=settings.heartbeat)


@dataclass
class ConsumerService:
    """A consumer stage: its runner over the broker, with health reporting."""

    stage: str
    broker: Broker
    handler: Handler | BatchHandler
    settings: CommonSettings
    health: HealthState
    # Work beside the consume loop, each (callable, seconds) called at start and then every so many
    # seconds until stop (gauges recomputed from the database); a failure is logged, never fatal.
    periodic: tuple[tuple[Callable[[], object], float], ...] = ()
    _busy: bool = False

    def run(self, stop: threading.Event) -> None:
        topology = topology_from(self.settings)
        runner = Runner(self.stage, self.broker, self.handler, max_retries=self.settings.max_retries,
                        retry_step=topology.retry_step, outage_step=topology.outage_step)

        def on_deliveries(deliveries):  # type: ignore[no-untyped-def]
            self._busy = True
            try:
                runner(deliveries)
            finally:
                self._busy = False
                self.health.tick()

        ticker = threading.Thread(target=self._tick_while_idle, args=(stop,), daemon=True)
        ticker.start()
        for work, seconds in self.periodic:
            threading.Thread(target=_every, args=(work, seconds, stop), daemon=True).start()
        self.broker.consume(self.stage, on_deliveries, stop, on_ready=self.health.set_ready,
                            batch=self.settings.batch_size)

    def _tick_while_idle(self, stop: threading.Event) -> None:
        # An idle consumer is alive; a consumer stuck in one handler past stall_after is not.
        while not stop.wait(5):
            if self.health.ready and not self._busy:
                self.health.tick()


def _every(work: Callable[[], object], seconds: float, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            work()
        except Exception as exc:  # the database away for a moment: the next round tries again
            log.warning("periodic work failed", work=getattr(work, "__qualname__", repr(work)),
                        error=type(exc).__name__)
        stop.wait(seconds)


def declare_when_reachable(broker: Broker, stop: threading.Event, health: HealthState, first_delay: float = 1.0,
                           max_delay: float = 30.0, rand: random.Random | None = None) -> bool:
    """Declare the topology, trying again while the broker cannot be reached, until ``stop``; return
    whether it was declared (``until_reachable``)."""
    return until_reachable("broker", lambda: broker.declare(connect_retries=0), (BrokerUnavailable,), stop, health,
                           first_delay=first_delay, max_delay=max_delay, rand=rand)


def until_reachable(what: str, attempt: Callable[[], object], unreachable: tuple[type[Exception], ...],
                    stop: threading.Event, health: HealthState, *, first_delay: float = 1.0, max_delay: float = 30.0,
                    rand: random.Random | None = None, describe: Callable[[Exception], str] = str) -> bool:
    """Call ``attempt`` until it does not raise one of ``unreachable``, or until ``stop``; return
    whether it succeeded. A pod started during an outage of ``what`` (the broker, the database) waits
    instead of exiting and crash-looping: not ready meanwhile, but live (health ticks), one log line
    per attempt (``describe`` turns the error into text without secrets). The delay doubles up to
    ``max_delay``, jittered so that many pods do not knock at once when the server returns. Any other
    exception propagates."""
    rand = rand or random.Random()
    delay, attempts = first_delay, 0
    while not stop.is_set():
        attempts += 1
        try:
            attempt()
        except unreachable as exc:
            wait = delay * rand.uniform(0.5, 1.0)
            log.warning(f"{what} unreachable; trying again", attempt=attempts, retry_in_s=round(wait, 1),
                        error=describe(exc))
            health.tick()
            stop.wait(wait)
            delay = min(delay * 2, max_delay)
            continue
        if attempts > 1:
            log.info(f"{what} reachable", attempts=attempts)
        return True
    return False


def install_stop_signals(stop: threading.Event) -> None:
    """SIGTERM/SIGINT finish the batch in flight, give prefetched ones back, then exit."""

    def _stop(signum: int, _frame: object) -> None:
        log.info("stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)


def start_health(settings: CommonSettings) -> HealthState:
    state = HealthState()
    if settings.health_port:
        serve_health(state, settings.health_port)
    return state
