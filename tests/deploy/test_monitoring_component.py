"""deploy/k8s/components/monitoring: the optional PodMonitor and PrometheusRule. Each overlay renders
with it; both custom resources pass a schema of the fields they use (the Prometheus Operator's CRDs are
not available offline: the subset below follows monitoring.coreos.com/v1 and refuses unknown fields);
the PrometheusRule is alerts.yaml (generated from it, and promtool accepts it); the PodMonitor scrapes
exactly the service pods with the labels the rules read."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from tests.deploy.conftest import DEPLOY, OVERLAYS, component, of_kind, render

COMPONENT = DEPLOY / "k8s" / "components" / "monitoring"
SERVICES = {"fetcher", "parser", "itemwriter", "notifier", "api"}


def _strict(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "additionalProperties": False, "required": list(required)}


_STRINGS = {"type": "array", "items": {"type": "string"}}
_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
_METADATA = _strict({"name": {"type": "string"}, "namespace": {"type": "string"}, "labels": _LABELS,
                     "annotations": _LABELS}, ("name",))
_SELECTOR = _strict({
    "matchLabels": _LABELS,
    "matchExpressions": {"type": "array", "items": _strict({
        "key": {"type": "string"}, "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
        "values": _STRINGS}, ("key", "operator"))},
})
_RELABEL = _strict({
    "sourceLabels": _STRINGS, "separator": {"type": "string"}, "targetLabel": {"type": "string"},
    "regex": {"type": "string"}, "modulus": {"type": "integer"}, "replacement": {"type": "string"},
    "action": {"enum": ["replace", "keep", "drop", "hashmod", "labelmap", "labeldrop", "labelkeep", "lowercase",
                        "uppercase", "keepequal", "dropequal"]},
})
_DURATION = {"type": "string", "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"}
POD_MONITOR = _strict({
    "apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": "PodMonitor"}, "metadata": _METADATA,
    "spec": _strict({
        "jobLabel": {"type": "string"}, "podTargetLabels": _STRINGS, "selector": _SELECTOR,
        "namespaceSelector": _strict({"any": {"type": "boolean"}, "matchNames": _STRINGS}),
        "sampleLimit": {"type": "integer"},
        "podMetricsEndpoints": {"type": "array", "minItems": 1, "items": _strict({
            "port": {"type": "string"}, "path": {"type": "string"}, "scheme": {"enum": ["http", "https"]},
            "interval": _DURATION, "scrapeTimeout": _DURATION, "honorLabels": {"type": "boolean"},
            "relabelings": {"type": "array", "items": _RELABEL},
            "metricRelabelings": {"type": "array", "items": _RELABEL}})},
    }, ("selector", "podMetricsEndpoints")),
}, ("apiVersion", "kind", "metadata", "spec"))
PROMETHEUS_RULE = _strict({
    "apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": "PrometheusRule"}, "metadata": _METADATA,
    "spec": _strict({"groups": {"type": "array", "minItems": 1, "items": _strict({
        "name": {"type": "string"}, "interval": _DURATION, "limit": {"type": "integer"},
        "rules": {"type": "array", "items": _strict({
            "alert": {"type": "string"}, "record": {"type": "string"},
            "expr": {"anyOf": [{"type": "string"}, {"type": "integer"}]}, "for": _DURATION,
            "keep_firing_for": _DURATION, "labels": _LABELS, "annotations": _LABELS}, ("expr",))}},
        ("name", "rules"))}}, ("groups",)),
}, ("apiVersion", "kind", "metadata", "spec"))
SCHEMAS = {"PodMonitor": POD_MONITOR, "PrometheusRule": PROMETHEUS_RULE}


@pytest.fixture(scope="module")
def with_monitoring(k8s_tree: Path) -> dict[str, list[dict[str, Any]]]:
    """Each overlay rendered with the component added, as an operator adds it."""
    rendered = {}
    for name in OVERLAYS:
        kustomization = k8s_tree / "overlays" / name / "kustomization.yaml"
        original = kustomization.read_text()
        kustomization.write_text(original + "\ncomponents:\n  - ../../components/monitoring\n")
        try:
            rendered[name] = render(kustomization.parent)
        finally:
            kustomization.write_text(original)
    return rendered


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("prometheusrule", DEPLOY / "prometheus" / "prometheusrule.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_prometheus_rule_is_generated_from_alerts_yaml():
    """Change alerts.yaml, then run deploy/prometheus/prometheusrule.py: this fails until then."""
    generator = _generator()
    assert (COMPONENT / "prometheusrule.yaml").read_text() == generator.render(generator.ALERTS.read_text())
    rule = yaml.safe_load((COMPONENT / "prometheusrule.yaml").read_text())
    assert rule["spec"]["groups"] == yaml.safe_load(generator.ALERTS.read_text())["groups"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_component_adds_a_pod_monitor_and_a_prometheus_rule_in_the_overlays_namespace(with_monitoring, rendered,
                                                                                          overlay):
    objects = with_monitoring[overlay]
    added = [o for o in objects if o["apiVersion"].startswith("monitoring.coreos.com/")]
    assert sorted(o["kind"] for o in added) == ["PodMonitor", "PrometheusRule"]
    namespace = next(o["metadata"]["namespace"] for o in objects if o["kind"] == "Deployment")
    assert {o["metadata"]["namespace"] for o in added} == {namespace}
    assert len(objects) == len(rendered[overlay]) + 2  # nothing else changes


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_monitoring_resources_pass_their_schema(with_monitoring, overlay):
    for obj in with_monitoring[overlay]:
        if obj["kind"] in SCHEMAS:
            jsonschema.validate(obj, SCHEMAS[obj["kind"]])


def test_the_schema_refuses_a_misspelt_field(with_monitoring):
    (monitor,) = of_kind(with_monitoring["prod"], "PodMonitor")
    monitor["spec"]["podMetricsEndpoints"][0]["relabelling"] = []
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(monitor, POD_MONITOR)


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        value, values = labels.get(expression["key"]), expression.get("values", [])
        if not {"In": value in values, "NotIn": value not in values, "Exists": value is not None,
                "DoesNotExist": value is None}[expression["operator"]]:
            return False
    return True


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_pod_monitor_scrapes_the_service_pods_as_the_rules_expect(with_monitoring, overlay):
    """The five services' pods, not the migration Job's; on their health port; labelled job="postroom"
    and component=<service>, which PostroomTargetDown and PostroomStageAbsent read."""
    objects = with_monitoring[overlay]
    (monitor,) = of_kind(objects, "PodMonitor")
    workloads = of_kind(objects, "Deployment") + of_kind(objects, "Job")
    selected = {component(w) for w in workloads
                if _selects(monitor["spec"]["selector"], w["spec"]["template"]["metadata"]["labels"])}
    assert selected == SERVICES
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    for deployment in of_kind(objects, "Deployment"):
        ports = {p["name"] for c in deployment["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
        assert endpoint["port"] in ports, component(deployment)
    relabel = {r["targetLabel"]: r for r in endpoint["relabelings"]}
    assert relabel["job"]["replacement"] == "postroom" and "sourceLabels" not in relabel["job"]
    assert relabel["component"]["sourceLabels"] == ["__meta_kubernetes_pod_label_app_kubernetes_io_component"]
    assert endpoint["path"] == "/metrics"


def test_promtool_accepts_the_prometheus_rule(tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        message = "promtool is not installed (Debian: prometheus)"
        if os.environ.get("POSTROOM_REQUIRE_SERVERS"):
            pytest.fail(message)
        pytest.skip(message)
    rule = yaml.safe_load((COMPONENT / "prometheusrule.yaml").read_text())
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rule["spec"]))
    checked = subprocess.run([promtool, "check", "rules", str(tmp_path / "rules.yaml")], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
