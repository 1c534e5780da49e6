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
# Served by RabbitMQ's rabbitmq_prometheus plugin, not by Postroom: /metrics/detailed with the families
# queue_coarse_metrics (messages, messages_ready) and queue_consumer_count (consumers), and
# /metrics/per-object (the same without "detailed_"). Names as in the plugin's
# prometheus_rabbitmq_core_metrics_collector of RabbitMQ 3.10.
RABBITMQ_METRICS = {"rabbitmq_detailed_queue_messages_ready", "rabbitmq_queue_messages_ready",
                    "rabbitmq_detailed_queue_messages", "rabbitmq_detailed_queue_consumers"}
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
    assert {r["alert"] for r in found} >= {"PostroomAccountNotFetching", "PostroomAccountFetchFailing",
                                          "PostroomAccountTokenExpiresSoon", "PostroomDeadLettersGrowing",
                                          "PostroomDeadLettersHeld", "PostroomLoopBreakerOpen",
                                          "PostroomQueueBacklogGrowing", "PostroomStageNotConsuming",
                                          "PostroomTargetDown", "PostroomStageAbsent",
                                          "PostroomOutboundMailPendingTooLong", "PostroomAccountAuthFailed"}
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
            "postroom_handler_duration_seconds", "postroom_outbound_pending",
            "postroom_outbound_oldest_pending_age_seconds"} <= exported_metric_names()


def test_every_alert_has_a_promtool_case_that_fires_and_one_that_must_not() -> None:
    """Each rule's unit tests expect it firing at some time and silent at another (an alert whose
    tests never expect silence would pass a rule that always fires)."""
    tests = yaml.safe_load(ALERTS.with_name("alerts_test.yaml").read_text())["tests"]
    cases: dict[str, set[bool]] = {}
    for test in tests:
        for case in test.get("alert_rule_test", []):
            cases.setdefault(case["alertname"], set()).add(bool(case["exp_alerts"]))
    for rule in rules():
        assert cases.get(rule["alert"]) == {True, False}, rule["alert"]


def _rule(name: str) -> dict:
    (found,) = [r for r in rules() if r["alert"] == name]
    return found


def _queue_patterns(expr: str) -> set[str]:
    # PromQL string escapes undone: "\\." in the rule is the regex \.
    return {p.replace("\\\\", "\\") for p in re.findall(r'queue=~"([^"]+)"', expr)}


def _matching(pattern: str, queues: set[str]) -> set[str]:
    return {q for q in queues if re.fullmatch(pattern, q)}  # Prometheus anchors its regexes too


@pytest.mark.parametrize("namespace", ["", "t1."])
def test_the_queue_rules_match_exactly_the_work_queues_or_exactly_the_dead_letter_queues(namespace: str) -> None:
    """The stage rule watches every work queue of the topology and nothing else (no retry queue, no
    DLQ, no other application's queue); the dead-letter rule every DLQ and nothing else."""
    from shared.broker.topology import CONSUMERS, Topology

    topology = Topology(namespace=namespace)
    work = {topology.queue(c) for c in CONSUMERS}
    dead = {topology.dead_letter_queue(c) for c in CONSUMERS}
    every = {d.name for d in topology.declarations()} | {"billing.jobs", "billing.jobs.dlq"}
    assert work | dead < every
    for alert, wanted in (("PostroomStageNotConsuming", work), ("PostroomDeadLettersHeld", dead)):
        patterns = _queue_patterns(_rule(alert)["expr"])
        assert patterns, alert
        for pattern in patterns:
            assert _matching(pattern, every) == wanted, (alert, pattern)


def test_the_absent_target_rule_names_every_service() -> None:
    """A service added to the pipeline without a line in PostroomStageAbsent would go unwatched."""
    from shared.broker.topology import CONSUMERS

    expr = _rule("PostroomStageAbsent")["expr"]
    assert set(re.findall(r'absent\(up\{job="postroom", component="(\w+)"\}\)', expr)) == {*CONSUMERS, "fetcher", "api"}
    assert 'up{job="postroom"}' in _rule("PostroomTargetDown")["expr"]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed (Debian: prometheus)")
def test_promtool_accepts_the_rules_and_their_unit_tests_pass() -> None:
    checked = subprocess.run(["promtool", "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(["promtool", "test", "rules", str(ALERTS.with_name("alerts_test.yaml"))],
                            capture_output=True, text=True, timeout=60)
    assert tested.returncode == 0, tested.stdout + tested.stderr


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed (Debian: prometheus)")
def test_the_documented_scrape_config_is_valid_and_sets_what_the_target_rules_read(tmp_path: Path) -> None:
    """docs/operations.md's scrape config passes promtool, names the job postroom and sets component
    from the label every service pod carries."""
    text = (ROOT / "docs" / "operations.md").read_text()
    (config,) = re.findall(r"```yaml\n(# docs/operations.md scrape config\n.*?)```", text, re.S)
    # Debian's promtool is built without the Kubernetes service discovery ("field kubernetes_sd_configs
    # not found"): check the rest (relabelling, params, rule files) with a static target in its place.
    parsed = yaml.safe_load(config)
    for job in parsed["scrape_configs"]:
        if job.pop("kubernetes_sd_configs", None) is not None:
            job["static_configs"] = [{"targets": ["10.0.0.5:8080"]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(parsed))
    (tmp_path / "alerts.yaml").write_text(ALERTS.read_text())
    checked = subprocess.run(["promtool", "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (job, _) = yaml.safe_load(config)["scrape_configs"]
    assert job["job_name"] == "postroom"
    assert any(r.get("target_label") == "component" for r in job["relabel_configs"])
    for service in ("fetcher", "parser", "itemwriter", "notifier", "api"):
        docs = yaml.safe_load_all((ROOT / "deploy" / "k8s" / "base" / f"{service}.yaml").read_text())
        (pod,) = [d["spec"]["template"] for d in docs if d and d["kind"] == "Deployment"]
        assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == service
        assert any(p.get("name") == "health" for c in pod["spec"]["containers"] for p in c.get("ports", []))
