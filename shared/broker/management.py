"""Per-queue rates from the RabbitMQ management plugin's HTTP API, when an operator has it enabled.

AMQP tells a queue's depth and consumers but no rates; ``GET /api/queues/<vhost>/<name>`` adds
``message_stats.publish_details.rate`` and ``deliver_get_details.rate`` (messages per second, averaged
by the broker over its sampling interval). Optional: ``postroom queues`` works without it.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlparse


@dataclass(frozen=True)
class ManagedQueue:
    ready: int
    unacked: int
    consumers: int
    publish_rate: float | None  # None: the broker has no figure yet (nothing published since start)
    deliver_rate: float | None


class ManagementError(Exception):
    pass


def _vhost(amqp_url: str) -> str:
    path = urlparse(amqp_url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def _credentials(management_url: str, amqp_url: str) -> tuple[str, str]:
    for url in (management_url, amqp_url):
        parsed = urlparse(url)
        if parsed.username:
            return unquote(parsed.username), unquote(parsed.password or "")
    return "guest", "guest"


def _rate(stats: dict, key: str) -> float | None:
    details = stats.get(f"{key}_details")
    return float(details["rate"]) if isinstance(details, dict) and "rate" in details else None


def queue_stats(management_url: str, amqp_url: str, names: list[str],
                timeout: float = 5.0) -> dict[str, ManagedQueue | None]:
    """Figures of each queue (``None`` when the broker has no such queue)."""
    parsed = urlparse(management_url)
    base = f"{parsed.scheme}://{parsed.hostname}{f':{parsed.port}' if parsed.port else ''}{parsed.path.rstrip('/')}"
    user, password = _credentials(management_url, amqp_url)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    vhost = quote(_vhost(amqp_url), safe="")
    out: dict[str, ManagedQueue | None] = {}
    for name in names:
        request = urllib.request.Request(f"{base}/api/queues/{vhost}/{quote(name, safe='')}",
                                         headers={"Authorization": f"Basic {auth}"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (operator-given URL)
                data = json.load(response)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                out[name] = None
                continue
            raise ManagementError(f"{management_url}: HTTP {exc.code} for queue {name!r}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ManagementError(f"{management_url}: {exc}") from None
        stats = data.get("message_stats") or {}
        out[name] = ManagedQueue(ready=int(data.get("messages_ready", 0)),
                                 unacked=int(data.get("messages_unacknowledged", 0)),
                                 consumers=int(data.get("consumers", 0)),
                                 publish_rate=_rate(stats, "publish"), deliver_rate=_rate(stats, "deliver_get"))
    return out
