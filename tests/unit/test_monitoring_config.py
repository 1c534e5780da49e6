"""The alert rules and the dashboard refer only to metrics that exist, and the rules fire as meant."""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest
import yaml

from shared.health import HealthState, serve_health
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yaml"
DASHBOARD = ROOT / "deploy" / "grafana" / "postroom.json"
# Served by RabbitMQ's rabbitmq_prometheus plugin (/metrics/detailed?family=queue_coarse_metrics and
# /metrics/per-object), not by Postroom.
RABBITMQ_METRICS = {"rabbitmq_detailed_queue_messages_ready", "rabbitmq_queue_messages_ready"}
_NAME = re.compile(r"\b((?:postroom|rabbitmq)_[a-z0-9_]+)")


@functools.cache
def exported_metric_names() -> frozenset[str]:
    """What a service's /metrics names (HELP/TYPE lines appear even before a first sample)."""
    import shared.metrics  # noqa: F401 (registers the metrics)

    server = serve_health(HealthState(), free_port(), host="127.0.0.1")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5) as response:
            text = response.read().decode()
    finally:
        server.shutdown()
    return frozenset(re.findall(r"^# TYPE (\S+) ", text, re.M))


def referenced(expr: str) -> set[str]:
    return {re.sub(r"_(bucket|sum|count)$", "", n) if n.endswith(("_bucket", "_sum", "_count")) else n
            for n in _NAME.findall(expr)}


def rules() -> list[dict]:
    return [r for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]]


def dashboard_exprs() -> list[str]:
    return [t["expr"] for p in json.loads(DASHBOARD.read_text())["panels"] for t in p["targets"]]


def test_every_alert_has_an_expression_a_severity_and_a_summary() -> None:
    found = rules()
    assert {r["alert"] for r in found} >= {"PostroomAccountNotFetching", "PostroomAccountTokenExpiresSoon",
                                          "PostroomDeadLettersGrowing", "PostroomLoopBreakerOpen",
                                          "PostroomQueueBacklogGrowing"}
    for rule in found:
        assert rule["expr"].strip() and rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]


@pytest.mark.parametrize("source", ["alerts", "dashboard"])
def test_the_alerts_and_the_dashboard_only_use_metrics_that_postroom_or_rabbitmq_export(source: str) -> None:
    exprs = [r["expr"] for r in rules()] if source == "alerts" else dashboard_exprs()
    names = set().union(*(referenced(e) for e in exprs))
    exported = exported_metric_names()
    assert names, "no metric found in the expressions"
    assert names - exported - RABBITMQ_METRICS == set()


def test_the_metrics_other_services_set_are_defined_with_their_documented_names() -> None:
    assert {"postroom_account_last_success_timestamp_seconds", "postroom_account_fetch_interval_seconds",
            "postroom_account_last_fetch_success", "postroom_account_fetch_lag_seconds",
            "postroom_account_token_expiry_timestamp_seconds", "postroom_auto_replies_sent_total",
            "postroom_auto_replies_suppressed_total", "postroom_loop_breaker_open",
            "postroom_dead_letters_total", "postroom_retries_total", "postroom_messages_handled_total",
            "postroom_handler_duration_seconds"} <= exported_metric_names()


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed (Debian: prometheus)")
def test_promtool_accepts_the_rules_and_their_unit_tests_pass() -> None:
    checked = subprocess.run(["promtool", "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(["promtool", "test", "rules", str(ALERTS.with_name("alerts_test.yaml"))],
                            capture_output=True, text=True, timeout=60)
    assert tested.returncode == 0, tested.stdout + tested.stderr
