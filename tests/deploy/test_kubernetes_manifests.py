"""The kustomize overlays render, validate strictly against the Kubernetes schemas, and follow the
platform's rules (restricted pods, probes, budgets, policies, scaling) and the code's wiring."""

from __future__ import annotations

import copy
from collections import Counter
from pathlib import Path
from typing import Any, cast

import kubernetes_validate
import pytest
import yaml

from shared.broker.topology import CONSUMERS, Topology
from shared.settings import CommonSettings
from tests.deploy.conftest import ROOT, component, of_kind, pod_spec
from tests.deploy.wiring import ENTRY, all_env_names, secrets_needed, writes_blob_store

# Kubernetes versions the manifests must be valid for: the oldest supported here and the newest
# schema kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.29.0", kubernetes_validate.utils.latest_version())
# Custom resources have no schema in kubernetes-validate: these, and only these, are skipped.
SKIPPED_CUSTOM_RESOURCES = {("keda.sh/v1alpha1", "ScaledObject"), ("keda.sh/v1alpha1", "TriggerAuthentication")}
SERVICES = ("fetcher", "parser", "itemwriter", "notifier", "api")
# Where each service talks to beyond RabbitMQ, PostgreSQL and DNS.
EXTERNAL_PORTS = {"fetcher": {143, 993, 110, 995, 443}, "notifier": {25, 465, 587}}
DNS, AMQP, AMQPS, POSTGRES = 53, 5672, 5671, 5432


def config(objects: list[dict[str, Any]]) -> dict[str, str]:
    (config_map,) = [c for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"].startswith("postroom-config")]
    return config_map["data"]


def deployments(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {component(d): d for d in of_kind(objects, "Deployment")}


def workloads(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {component(w): w for w in of_kind(objects, "Deployment") + of_kind(objects, "Job")}


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, f"only matchLabels selectors are used here: {selector}"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"]["labels"]


def secret_files(workload: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for volume in pod_spec(workload).get("volumes", []):
        if "secret" in volume:
            found.update(item["key"] for item in volume["secret"]["items"])
    return found


# ---------------------------------------------------------------------------------------------
# Rendering and schemas


def test_each_overlay_renders_the_five_services_and_the_migration_job(objects):
    """Every overlay holds one Deployment per service and the migration Job."""
    assert sorted(deployments(objects)) == sorted(SERVICES)
    assert [component(j) for j in of_kind(objects, "Job")] == ["migration"]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_validates_strictly_against_the_kubernetes_schema(objects, version):
    """Strict validation (unknown fields are errors); only the KEDA custom resources are skipped,
    and they are counted so that a new kind cannot slip past unvalidated."""
    skipped: Counter[str] = Counter()
    errors = []
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in SKIPPED_CUSTOM_RESOURCES:
            skipped[obj["kind"]] += 1
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert errors == []
    assert skipped == {"ScaledObject": 3, "TriggerAuthentication": 1}


def test_strict_schema_validation_rejects_a_misspelt_field(objects):
    """The validator in use does catch an unknown field (a probe name with a typo)."""
    deployment = copy.deepcopy(deployments(objects)["parser"])
    pod_spec(deployment)["containers"][0]["livenesProbes"] = {"httpGet": {"path": "/live", "port": 8080}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


# ---------------------------------------------------------------------------------------------
# Selectors, probes, security, images, resources


def test_every_deployment_selector_matches_its_pod_labels(objects):
    """A Deployment whose selector misses its own pods is rejected by the API server."""
    for name, deployment in deployments(objects).items():
        assert selects(deployment["spec"]["selector"], pod_labels(deployment)), name


def test_every_deployment_has_one_disruption_budget_selecting_only_its_pods(objects):
    """One PodDisruptionBudget per Deployment, allowing one pod at a time to go."""
    pods = {name: pod_labels(d) for name, d in deployments(objects).items()}
    for name in pods:
        budgets = [b for b in of_kind(objects, "PodDisruptionBudget") if selects(b["spec"]["selector"], pods[name])]
        assert len(budgets) == 1, f"{name}: {len(budgets)} budgets"
        others = [n for n, labels in pods.items() if n != name and selects(budgets[0]["spec"]["selector"], labels)]
        assert others == [], f"{name}'s budget also selects {others}"
        assert budgets[0]["spec"].get("maxUnavailable") == 1
    assert len(of_kind(objects, "PodDisruptionBudget")) == len(pods)


def test_every_service_container_is_probed_on_the_health_port_the_config_enables(objects):
    """Startup and liveness on /live, readiness on /ready, all on the port POSTROOM_HEALTH_PORT
    opens (without that variable the services serve no health endpoint at all)."""
    health_port = int(config(objects)["POSTROOM_HEALTH_PORT"])
    for name, deployment in deployments(objects).items():
        for container in pod_spec(deployment)["containers"]:
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            assert ports.get("health") == health_port, name
            for probe, path in (("startupProbe", "/live"), ("livenessProbe", "/live"), ("readinessProbe", "/ready")):
                get = container[probe]["httpGet"]
                assert get["path"] == path, f"{name} {probe}"
                assert get["port"] in ("health", health_port), f"{name} {probe}"


def test_every_pod_meets_the_restricted_pod_security_standard(objects):
    """Non-root, RuntimeDefault seccomp, no privilege escalation, all capabilities dropped, a
    read-only root filesystem with an emptyDir at /tmp, no host namespaces or paths."""
    for name, workload in workloads(objects).items():
        spec = pod_spec(workload)
        pod_security = spec.get("securityContext", {})
        assert spec.get("automountServiceAccountToken") is False, name
        assert not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")), name
        assert not any("hostPath" in v for v in spec.get("volumes", [])), name
        empty_dirs = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
        for container in spec["containers"] + spec.get("initContainers", []):
            security = container.get("securityContext", {})
            assert security.get("runAsNonRoot", pod_security.get("runAsNonRoot")) is True, name
            assert (security.get("runAsUser", pod_security.get("runAsUser")) or 0) != 0, name
            seccomp = security.get("seccompProfile", pod_security.get("seccompProfile", {}))
            assert seccomp.get("type") == "RuntimeDefault", name
            assert security.get("allowPrivilegeEscalation") is False, name
            assert security.get("privileged", False) is False, name
            assert security.get("capabilities", {}).get("drop") == ["ALL"], name
            assert not security.get("capabilities", {}).get("add"), name
            assert security.get("readOnlyRootFilesystem") is True, name
            tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
            assert len(tmp) == 1 and tmp[0]["name"] in empty_dirs, f"{name}: /tmp is not an emptyDir"


def test_the_namespace_enforces_the_restricted_profile(objects):
    """Admission refuses any pod of the namespace that drifts from the restricted profile."""
    (namespace,) = of_kind(objects, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {
        namespace["metadata"]["name"]}


def test_no_image_is_untagged_or_latest(objects):
    """Every image names a version tag or a digest."""
    for name, workload in workloads(objects).items():
        for container in pod_spec(workload)["containers"]:
            image = container["image"]
            if "@sha256:" in image:
                continue
            repository, _, tag = image.rpartition(":")
            assert repository and "/" not in tag, f"{name}: {image} has no tag"
            assert tag != "latest", f"{name}: {image}"


def test_every_container_requests_cpu_and_memory_and_limits_memory(objects):
    """Requests place the pods; a memory limit bounds a parse gone wrong."""
    for name, workload in workloads(objects).items():
        for container in pod_spec(workload)["containers"]:
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), name
            assert "memory" in resources["limits"], name


def test_consumers_get_a_grace_period_longer_than_their_longest_unit_of_work(objects):
    """SIGTERM finishes the message in flight: the notifier's SMTP conversation (a connect and a
    send, each up to the SMTP timeout) plus the publish confirm must fit in the grace period."""
    from services.notifier.settings import NotifierSettings

    graces = {name: pod_spec(d)["terminationGracePeriodSeconds"] for name, d in deployments(objects).items()}
    assert min(graces.values()) >= 60, graces
    smtp_timeout = NotifierSettings.model_fields["smtp_timeout"].default
    assert graces["notifier"] >= 2 * smtp_timeout + 10, graces


# ---------------------------------------------------------------------------------------------
# Scaling


def test_no_horizontal_autoscaler_targets_a_deployment_keda_scales(objects):
    """KEDA creates the HPA for a ScaledObject; a second one on the same target would fight it."""
    scaled = {s["spec"]["scaleTargetRef"]["name"] for s in of_kind(objects, "ScaledObject")}
    hpa_targets = {h["spec"]["scaleTargetRef"]["name"] for h in of_kind(objects, "HorizontalPodAutoscaler")}
    assert scaled & hpa_targets == set()


def test_keda_scales_the_three_consumers_and_the_fetcher_keeps_a_replica_count(objects):
    """parser, itemwriter and notifier follow their queues and set no replica count (kubectl apply
    would reset KEDA's); the fetcher has no queue and a fixed count."""
    by_name = {d["metadata"]["name"]: name for name, d in deployments(objects).items()}
    scaled = {by_name[s["spec"]["scaleTargetRef"]["name"]] for s in of_kind(objects, "ScaledObject")}
    assert scaled == set(CONSUMERS)
    for name, deployment in deployments(objects).items():
        assert ("replicas" in deployment["spec"]) == (name not in scaled), name


def test_each_scaled_object_watches_the_queue_its_deployment_consumes(objects):
    """The queue name comes from shared/broker/topology.py with the configured broker namespace."""
    topology = Topology(namespace=config(objects)["POSTROOM_BROKER_NAMESPACE"])
    by_name = {d["metadata"]["name"]: name for name, d in deployments(objects).items()}
    declared = {decl.name for decl in topology.declarations()}
    for scaled_object in of_kind(objects, "ScaledObject"):
        consumer = by_name[scaled_object["spec"]["scaleTargetRef"]["name"]]
        (trigger,) = scaled_object["spec"]["triggers"]
        assert trigger["type"] == "rabbitmq"
        assert trigger["metadata"]["queueName"] == topology.queue(consumer)
        assert trigger["metadata"]["queueName"] in declared
        assert trigger["metadata"]["mode"] == "QueueLength"
        assert 1 <= scaled_object["spec"]["minReplicaCount"] <= scaled_object["spec"]["maxReplicaCount"]


def _prefetch(objects: list[dict[str, Any]], deployment: dict[str, Any]) -> int:
    """The POSTROOM_PREFETCH a service's pods run with: the container's env, else the ConfigMap,
    else the service's settings default."""
    (container,) = pod_spec(deployment)["containers"]
    for env in container.get("env", []):
        if env["name"] == "POSTROOM_PREFETCH":
            return int(env["value"])
    if "POSTROOM_PREFETCH" in config(objects):
        return int(config(objects)["POSTROOM_PREFETCH"])
    settings_cls = cast(type[CommonSettings], ENTRY[component(deployment)][1])
    return int(settings_cls.model_fields["prefetch"].default)


def test_each_queue_length_threshold_is_above_the_prefetch_of_the_pods_it_scales(objects):
    """KEDA reads ready messages; every replica already holds up to its prefetch unacknowledged. A
    threshold at or below the prefetch scales up for a backlog one new replica takes whole into its
    prefetch, and then straight down again."""
    by_name = {d["metadata"]["name"]: d for d in deployments(objects).values()}
    for scaled_object in of_kind(objects, "ScaledObject"):
        deployment = by_name[scaled_object["spec"]["scaleTargetRef"]["name"]]
        (trigger,) = scaled_object["spec"]["triggers"]
        prefetch = _prefetch(objects, deployment)
        assert prefetch >= 1
        assert float(trigger["metadata"]["value"]) > prefetch, (component(deployment), prefetch)


def test_each_scaled_object_falls_back_to_a_replica_count_within_its_bounds(objects):
    """When KEDA cannot read the queue it holds the fallback count. KEDA accepts a fallback only for
    AverageValue metrics (QueueLength's default), so the trigger must not choose another."""
    for scaled_object in of_kind(objects, "ScaledObject"):
        spec = scaled_object["spec"]
        fallback = spec["fallback"]
        assert set(fallback) == {"failureThreshold", "replicas"}
        assert isinstance(fallback["failureThreshold"], int) and fallback["failureThreshold"] >= 1
        assert spec["minReplicaCount"] <= fallback["replicas"] <= spec["maxReplicaCount"], scaled_object["metadata"]
        for trigger in spec["triggers"]:
            assert trigger.get("metricType", "AverageValue") == "AverageValue"


# ---------------------------------------------------------------------------------------------
# Configuration and secrets


def test_every_referenced_config_map_secret_and_key_exists_in_the_rendered_output(objects):
    """envFrom, env, volumes and KEDA's TriggerAuthentication refer to objects and keys that are
    rendered (with kustomize's hash suffixes applied)."""
    data = {(o["kind"], o["metadata"]["name"]): set(o.get("data", {})) for o in objects
            if o["kind"] in ("ConfigMap", "Secret")}
    references = []
    for name, workload in workloads(objects).items():
        spec = pod_spec(workload)
        for container in spec["containers"] + spec.get("initContainers", []):
            for source in container.get("envFrom", []):
                for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                    if key in source:
                        references.append((name, kind, source[key]["name"], None))
            for env in container.get("env", []):
                for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                    ref = env.get("valueFrom", {}).get(key)
                    if ref:
                        references.append((name, kind, ref["name"], ref["key"]))
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                for item in volume["secret"].get("items", [{"key": None}]):
                    references.append((name, "Secret", volume["secret"]["secretName"], item["key"]))
            if "configMap" in volume:
                for item in volume["configMap"].get("items", [{"key": None}]):
                    references.append((name, "ConfigMap", volume["configMap"]["name"], item["key"]))
    for auth in of_kind(objects, "TriggerAuthentication"):
        for ref in auth["spec"]["secretTargetRef"]:
            references.append((auth["metadata"]["name"], "Secret", ref["name"], ref["key"]))
    assert len(references) >= len(workloads(objects)) * 2
    for owner, kind, ref_name, key in references:
        assert (kind, ref_name) in data, f"{owner} refers to a missing {kind} {ref_name}"
        assert key is None or key in data[(kind, ref_name)], f"{owner}: {kind} {ref_name} has no key {key}"


def test_each_workload_mounts_exactly_the_secrets_its_code_reads(objects):
    """Least privilege: a pod gets the credentials its composition root uses, and no others."""
    for name, workload in workloads(objects).items():
        assert secret_files(workload) == secrets_needed(name), name


def _sentinel(key: str) -> str:
    """A recognisable value for the file ``key``, shaped as the setting demands (a URL is checked
    when it is read)."""
    shapes = {"DATABASE_URL": "postgresql://sentinel-{key}@db:5432/postroom",
              "AMQP_URL": "amqp://sentinel-{key}@broker:5672//"}
    return shapes.get(key, "sentinel-{key}").format(key=key)


def test_the_mounted_secret_files_reach_the_settings(objects, tmp_path, monkeypatch):
    """Each mounted key, as a file in POSTROOM_SECRETS_DIR, is read into a setting of the service
    (a key the settings do not recognise would be silently ignored)."""
    for variable in list(__import__("os").environ):
        if variable.startswith(("POSTROOM_", "SMTP_")) or variable in ("AMQP_URL", "DATABASE_URL"):
            monkeypatch.delenv(variable)
    for name, workload in workloads(objects).items():
        secrets_dir = tmp_path / name
        secrets_dir.mkdir()
        keys = secret_files(workload)
        for key in keys:
            (secrets_dir / key).write_text(_sentinel(key))
        # The sentinels are no real token secret: development mode lets the settings take them.
        settings = ENTRY[name][1](_secrets_dir=str(secrets_dir), dev_mode=True)
        values = {v for value in settings.model_dump().values()
                  for v in (value if isinstance(value, tuple) else (value,))}
        for key in keys:
            assert any(f"sentinel-{key}" in str(value) for value in values), f"{name}: the file {key} sets no setting"


def test_every_config_map_key_is_a_setting_some_service_reads(objects):
    """A misspelt variable in the ConfigMap would be ignored without a word."""
    assert set(config(objects)) - all_env_names() == set()


def test_the_migration_job_runs_db_upgrade_with_the_cli_image(objects):
    """`postroom db upgrade` from the cli target, once, never restarted in place."""
    (job,) = of_kind(objects, "Job")
    (container,) = pod_spec(job)["containers"]
    assert container["command"] == ["postroom", "db", "upgrade"]
    assert "postroom-cli" in container["image"] or container["image"].split(":")[0].endswith("/cli")
    assert pod_spec(job)["restartPolicy"] == "Never"


def _tag(image: str) -> str:
    """The tag of ``registry/name:tag[@digest]`` (a registry's port is not a tag)."""
    name = image.split("@", 1)[0]
    return name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""


def test_the_migration_job_is_named_after_the_release_its_image_is(objects):
    """A Job cannot be changed once created: a new release's Job has a new name, so `kubectl apply`
    of a new release runs its migration instead of failing on the old Job. Name, version label and
    the cli image's tag agree with each other and with pyproject.toml, in every overlay."""
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    (job,) = of_kind(objects, "Job")
    (container,) = pod_spec(job)["containers"]
    assert job["metadata"]["name"] == f"postroom-db-upgrade-{version}"
    assert job["metadata"]["labels"]["app.kubernetes.io/version"] == version
    assert _tag(container["image"]) == version
    assert job["spec"]["ttlSecondsAfterFinished"] > 0  # old releases' Jobs do not pile up
    for deployment in deployments(objects).values():  # the release the Job migrates for
        for service_container in pod_spec(deployment)["containers"]:
            assert _tag(service_container["image"]) == version, deployment["metadata"]["name"]


def test_the_image_tag_reader_skips_registry_ports_and_digests():
    assert _tag("registry.example.com:5000/postroom/cli:0.2.0@sha256:ab") == "0.2.0"
    assert _tag("registry.example.com:5000/postroom/cli") == ""
    assert _tag("postroom-cli:0.1.0") == "0.1.0"


# ---------------------------------------------------------------------------------------------
# Storage


def test_the_blob_store_claim_is_shared_at_the_store_dir_writable_only_where_the_code_writes(overlay, objects):
    """One claim, ReadWriteMany outside dev (pods on several nodes), mounted where
    POSTROOM_STORE_DIR points: writable where the code writes the store (fetcher, parser, the API's
    reply attachments), read-only in the itemwriter and the notifier."""
    (claim,) = of_kind(objects, "PersistentVolumeClaim")
    expected_mode = "ReadWriteOnce" if overlay == "dev" else "ReadWriteMany"
    assert claim["spec"]["accessModes"] == [expected_mode]
    store_dir = Path(config(objects)["POSTROOM_STORE_DIR"])
    mounted = {}
    for name, deployment in deployments(objects).items():
        volumes = {v["name"]: v for v in pod_spec(deployment).get("volumes", [])}
        for mount in pod_spec(deployment)["containers"][0].get("volumeMounts", []):
            claim_ref = volumes[mount["name"]].get("persistentVolumeClaim", {}).get("claimName")
            if claim_ref == claim["metadata"]["name"]:
                assert store_dir.is_relative_to(mount["mountPath"]), name
                mounted[name] = mount.get("readOnly", False)
    assert mounted == {"fetcher": False, "parser": False, "itemwriter": True, "notifier": True, "api": False}
    for name, read_only in mounted.items():
        assert read_only != writes_blob_store(name), name


# ---------------------------------------------------------------------------------------------
# Network


def _rules_ports(rules: list[dict[str, Any]]) -> set[int | str]:
    return {p["port"] for rule in rules for p in rule.get("ports", [])}


MONITORING = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
INGRESS_CONTROLLER = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}


def test_each_pod_accepts_traffic_only_from_monitoring_on_the_health_port(objects):
    """One NetworkPolicy per workload on top of the namespace's default deny; its only ingress
    is the monitoring namespace scraping the health port, and for the API the ingress controller
    on its HTTP port."""
    policies = of_kind(objects, "NetworkPolicy")
    deny = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert len(deny) == 1 and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny[0]["spec"] and "egress" not in deny[0]["spec"]
    for name, workload in workloads(objects).items():
        own = [p for p in policies if p["spec"]["podSelector"] and selects(p["spec"]["podSelector"], pod_labels(workload))]
        assert len(own) == 1, f"{name}: {len(own)} policies"
        ingress = own[0]["spec"].get("ingress", [])
        if workload["kind"] == "Job":
            assert ingress == [], name
            continue
        if name == "api":
            assert [(rule["from"], _rules_ports([rule])) for rule in ingress] == [
                ([MONITORING], {"health"}), ([INGRESS_CONTROLLER], {"http"})]
            continue
        sources = [source for rule in ingress for source in rule["from"]]
        assert sources == [MONITORING]
        assert _rules_ports(ingress) == {"health"}, name


def test_each_pod_may_reach_only_dns_the_broker_the_database_and_its_own_providers(overlay, objects):
    """Egress ports follow the code: RabbitMQ for all that publish or consume, PostgreSQL for all
    that open the database, and the mail providers for the fetcher and the SMTP relay for the
    notifier (dev adds Mailpit's 1025)."""
    policies = of_kind(objects, "NetworkPolicy")
    for name, workload in workloads(objects).items():
        (own,) = [p for p in policies if p["spec"]["podSelector"] and selects(p["spec"]["podSelector"], pod_labels(workload))]
        needed = secrets_needed(name)
        expected = {DNS} | ({AMQP, AMQPS} if "AMQP_URL" in needed else set())
        expected |= {POSTGRES} if "DATABASE_URL" in needed else set()
        expected |= EXTERNAL_PORTS.get(name, set())
        if overlay == "dev" and name == "notifier":
            expected.add(1025)
        assert _rules_ports(own["spec"]["egress"]) == expected, name


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_api_ingress_example_validates_and_routes_to_the_api_service(objects, version):
    """The example is not rendered by an overlay; it must still be valid and name the API's Service."""
    example = yaml.safe_load((ROOT / "deploy/k8s/examples/api-ingress.yaml").read_text())
    kubernetes_validate.validate(example, version, strict=True)
    (service,) = [s for s in of_kind(objects, "Service") if s["metadata"]["name"].endswith("postroom-api")]
    backend = example["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert service["metadata"]["name"].endswith(backend["name"])
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    assert example["spec"]["tls"], "the API takes passwords and tokens: TLS only"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_retention_cronjob_example_validates_and_runs_the_retention_command(version):
    """Strictly valid, the cli image, `postroom retention run`, restricted like every pod."""
    docs = [d for d in yaml.safe_load_all((ROOT / "deploy/k8s/examples/retention-cronjob.yaml").read_text()) if d]
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)
    (cron,) = [d for d in docs if d["kind"] == "CronJob"]
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"].startswith("postroom-cli") and container["command"] == ["postroom", "retention", "run"]
    assert pod["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
