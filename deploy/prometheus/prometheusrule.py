"""Write deploy/k8s/components/monitoring/prometheusrule.yaml from deploy/prometheus/alerts.yaml: the
same groups, as the Prometheus Operator's PrometheusRule. Run it after changing the alerts:

    python3 deploy/prometheus/prometheusrule.py

tests/deploy/test_monitoring_component.py fails while the two differ."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ALERTS = HERE / "alerts.yaml"
TARGET = HERE.parent / "k8s" / "components" / "monitoring" / "prometheusrule.yaml"
HEADER = ("# Generated from deploy/prometheus/alerts.yaml by deploy/prometheus/prometheusrule.py: edit those,\n"
          "# not this file. What each alert means and what to do: docs/operations.md.\n")


def render(alerts_text: str) -> str:
    rules = yaml.safe_load(alerts_text)
    resource = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "postroom", "labels": {"app.kubernetes.io/name": "postroom",
                                                    "app.kubernetes.io/component": "monitoring"}},
        "spec": {"groups": rules["groups"]},
    }
    return HEADER + yaml.safe_dump(resource, sort_keys=False, width=120, allow_unicode=True)


if __name__ == "__main__":
    TARGET.write_text(render(ALERTS.read_text()))
    print(f"wrote {TARGET.relative_to(Path.cwd()) if TARGET.is_relative_to(Path.cwd()) else TARGET}", file=sys.stderr)
