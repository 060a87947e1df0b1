"""deploy/k8s renders, is schema-valid, and agrees with the code it deploys (offline, fast).

Each overlay is rendered by `kustomize_lite` (no kustomize binary needed; compared with
the real kustomize when one is installed), every built-in object is validated against the
Kubernetes JSON schemas of the `kubernetes-validate` package (strict: unknown fields
fail), Strimzi's custom resources against our own minimal schemas in `schemas/`, and then
the properties that matter are checked: ports and URLs, probes, topics against
`tissflow_contracts.ALL_TOPICS`, what is reachable from outside the namespace.
"""

from __future__ import annotations

import ast
import functools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from tissflow_contracts import ALL_TOPICS
from tissflow_runtime.local import SERVICES
from tissflow_runtime.settings import SERVICE_PORTS, ServiceSettings

from tests.deploy import kustomize_lite
from tests.deploy.kustomize_lite import Obj, object_id, pod_spec

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("staging", "production")
SCHEMAS = Path(__file__).parent / "schemas"
# The Kubernetes version whose schemas the built-in objects must satisfy.
KUBERNETES_VERSION = "1.35.0"
STRIMZI_GROUP = "kafka.strimzi.io"
CONFIGMAP = "tissflow-config"
SECRET = "tissflow-secrets"
IMAGE_REPO = "ghcr.io/tissflow"
# Labels Strimzi puts on the Kafka pods of cluster `tissflow-kafka` (kafka/kafka.yaml).
KAFKA_POD_LABELS = {"strimzi.io/cluster": "tissflow-kafka", "strimzi.io/kind": "Kafka"}


@functools.cache
def rendered(overlay: str) -> tuple[Obj, ...]:
    return tuple(kustomize_lite.render(K8S / "overlays" / overlay))


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def objs(overlay: str) -> tuple[Obj, ...]:
    return rendered(overlay)


def of_kind(objs: tuple[Obj, ...], kind: str) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in objs if o["kind"] == kind}


def one(objs: tuple[Obj, ...], kind: str, name: str) -> Obj:
    found = of_kind(objs, kind)
    assert name in found, f"no {kind} named {name!r} (have {sorted(found)})"
    return found[name]


def where(obj: Obj) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


# -- rendering and schemas ----------------------------------------------------------------


def test_overlay_renders_unique_namespaced_objects(overlay: str, objs: tuple[Obj, ...]) -> None:
    ids = [object_id(o) for o in objs]
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes, f"{overlay}: objects defined twice: {dupes}"
    stray = [where(o) for o in objs if o["kind"] != "Namespace" and object_id(o)[2] != "tissflow"]
    assert not stray, f"{overlay}: objects outside namespace tissflow: {stray}"
    secrets = [where(o) for o in objs if o["kind"] == "Secret"]
    assert not secrets, f"{overlay}: Secrets are created out of band, not rendered: {secrets}"


def test_builtin_objects_match_kubernetes_schemas(overlay: str, objs: tuple[Obj, ...]) -> None:
    errors = []
    for obj in objs:
        if obj["apiVersion"].startswith(STRIMZI_GROUP + "/"):
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(str(p) for p in exc.path) if hasattr(exc, "path") else ""
            errors.append(f"{where(obj)}: {exc.message} at /{path}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{where(obj)}: no Kubernetes {KUBERNETES_VERSION} schema ({exc})")
    assert not errors, f"{overlay}: invalid objects:\n" + "\n".join(errors)


@functools.cache
def strimzi_validator(kind: str) -> jsonschema.Draft202012Validator:
    path = SCHEMAS / f"ours.strimzi.{kind.lower()}.v1beta2.schema.json"
    assert path.exists(), f"no schema of ours for Strimzi {kind}: write {path.name}"
    schema = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_strimzi_resources_match_our_schemas(overlay: str, objs: tuple[Obj, ...]) -> None:
    errors = []
    strimzi = [o for o in objs if o["apiVersion"].startswith(STRIMZI_GROUP + "/")]
    assert {o["kind"] for o in strimzi} == {"Kafka", "KafkaNodePool", "KafkaTopic"}
    for obj in strimzi:
        for err in strimzi_validator(obj["kind"]).iter_errors(obj):
            errors.append(f"{where(obj)}: {err.message} at /{'/'.join(map(str, err.path))}")
    assert not errors, f"{overlay}: Strimzi resources off our schemas:\n" + "\n".join(errors)


def real_kustomize() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


@pytest.mark.skipif(real_kustomize() is None, reason="no kustomize or kubectl on the PATH")
def test_renderer_agrees_with_real_kustomize(overlay: str, objs: tuple[Obj, ...]) -> None:
    cmd = real_kustomize()
    assert cmd is not None
    out = subprocess.run(
        [*cmd, str(K8S / "overlays" / overlay)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    real = {object_id(o): o for o in yaml.safe_load_all(out.stdout) if o}
    ours = {object_id(o): o for o in objs}
    assert sorted(real) == sorted(ours)
    differ = [f"{k[1]}/{k[3]}" for k in real if real[k] != ours[k]]
    assert not differ, f"{overlay}: kustomize_lite renders these differently: {differ}"


# -- services -----------------------------------------------------------------------------


def test_one_deployment_per_service(objs: tuple[Obj, ...]) -> None:
    assert set(SERVICES) == set(SERVICE_PORTS)
    deployments = of_kind(objs, "Deployment")
    assert set(deployments) == set(SERVICES), (
        "Deployments and tissflow_runtime.local.SERVICES differ: "
        f"missing {set(SERVICES) - set(deployments)}, extra {set(deployments) - set(SERVICES)}"
    )


def container_of(deployment: Obj) -> Obj:
    containers = pod_spec(deployment)["containers"]
    assert len(containers) == 1, f"{where(deployment)}: expected one container"
    return containers[0]


def resolve_port(container: Obj, port: int | str) -> int:
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
    assert port in named, f"container {container['name']}: no port named {port!r}"
    return named[port]


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_runs_the_service_safely(objs: tuple[Obj, ...], service: str) -> None:
    dep = one(objs, "Deployment", service)
    pod = pod_spec(dep)
    ctr = container_of(dep)
    port = SERVICE_PORTS[service]
    assert ctr["image"].startswith(f"{IMAGE_REPO}/{service}:"), f"{service}: {ctr['image']}"
    assert not ctr["image"].endswith(":latest"), f"{service}: pin a tag, not latest"
    assert ctr["command"] == ["python", "-m", f"tissflow_{service}"]
    assert [resolve_port(ctr, p["containerPort"]) for p in ctr["ports"]] == [port], (
        f"{service} listens on {port} (TISSFLOW_{service.upper()}_URL); the container says "
        f"{ctr['ports']}"
    )
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        assert probe in ctr, f"{service}: no {probe}"
        get = ctr[probe].get("httpGet", {})
        assert get.get("path") == path, f"{service}: {probe} must GET {path}"
        assert resolve_port(ctr, get["port"]) == port, f"{service}: {probe} on wrong port"
    pod_sc, ctr_sc = pod.get("securityContext", {}), ctr.get("securityContext", {})
    assert pod_sc.get("runAsNonRoot") or ctr_sc.get("runAsNonRoot"), f"{service}: runs as root"
    assert ctr_sc.get("readOnlyRootFilesystem") is True, f"{service}: writable root fs"
    assert ctr_sc.get("allowPrivilegeEscalation") is False
    assert ctr_sc.get("capabilities", {}).get("drop") == ["ALL"]
    for part in ("requests", "limits"):
        got = ctr.get("resources", {}).get(part, {})
        assert {"cpu", "memory"} <= set(got), f"{service}: resources.{part} needs cpu and memory"
    sources = {
        (kind, ref["name"])
        for src in ctr.get("envFrom", [])
        for kind, ref in src.items()
        if kind in ("configMapRef", "secretRef")
    }
    assert sources == {("configMapRef", CONFIGMAP), ("secretRef", SECRET)}, (
        f"{service}: env must come from ConfigMap {CONFIGMAP} and Secret {SECRET}, got {sources}"
    )
    labels = dep["spec"]["template"]["metadata"]["labels"]
    selector = dep["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items(), f"{service}: selector does not match its pods"


@pytest.mark.parametrize("service", SERVICES)
def test_each_deployment_has_a_matching_cluster_ip_service(
    objs: tuple[Obj, ...], service: str
) -> None:
    dep = one(objs, "Deployment", service)
    svc = one(objs, "Service", service)
    assert svc["spec"].get("type", "ClusterIP") == "ClusterIP", f"{service}: not ClusterIP"
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= pod_labels.items(), (
        f"Service {service} selects {svc['spec']['selector']}, not the Deployment's pods"
    )
    ports = svc["spec"]["ports"]
    assert len(ports) == 1, f"Service {service}: one port expected"
    assert ports[0]["port"] == SERVICE_PORTS[service], (
        f"Service {service} port {ports[0]['port']} != {SERVICE_PORTS[service]}"
    )
    target = resolve_port(container_of(dep), ports[0].get("targetPort", ports[0]["port"]))
    assert target == SERVICE_PORTS[service]


def settings_fields() -> set[str]:
    """Fields of ServiceSettings and of every service's subclass of it (read from source,
    so the services' modules, which connect on import, are not imported)."""
    fields = set(ServiceSettings.model_fields)
    for path in (ROOT / "services").glob("*/src/**/*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id == "ServiceSettings" for b in node.bases
            ):
                fields |= {
                    s.target.id
                    for s in node.body
                    if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
                }
    return fields


def secret_example() -> dict[str, dict[str, str]]:
    docs = yaml.safe_load_all((K8S / "secrets.example.yaml").read_text())
    return {d["metadata"]["name"]: d["stringData"] for d in docs if d}


def test_config_urls_match_service_ports(objs: tuple[Obj, ...]) -> None:
    data = one(objs, "ConfigMap", CONFIGMAP)["data"]
    for service, port in SERVICE_PORTS.items():
        key = f"TISSFLOW_{service.upper()}_URL"
        assert key in data, f"{CONFIGMAP}: no {key}"
        url = urlsplit(data[key])
        svc_port = one(objs, "Service", service)["spec"]["ports"][0]["port"]
        assert (url.scheme, url.hostname, url.port) == ("http", service, svc_port), (
            f"{key}={data[key]}, but Service {service} listens on {svc_port} "
            f"(the service binds the port of its own URL: expected http://{service}:{port})"
        )
    assert data["TISSFLOW_HTTP_HOST"] == "0.0.0.0", "pods must listen beyond loopback"
    assert data["TISSFLOW_DB_PREFIX"] == "tissflow"
    assert data["TISSFLOW_OPERADORA_REGISTRO_ANS"] == "331988"
    # The operator's identity every document prints: the seed operator's, never made up.
    assert data["TISSFLOW_OPERADORA_CNPJ"] == "39419809000198"
    assert data["TISSFLOW_OPERADORA_RAZAO_SOCIAL"].startswith("PASA - PLANO DE ASSISTENCIA")
    assert "TISSFLOW_LOG_LEVEL" in data


def test_every_tissflow_variable_is_a_setting(objs: tuple[Obj, ...]) -> None:
    fields = settings_fields()
    keys = set(one(objs, "ConfigMap", CONFIGMAP)["data"]) | set(secret_example()[SECRET])
    unknown = {k for k in keys if k.startswith("TISSFLOW_") and k[9:].lower() not in fields}
    assert not unknown, f"variables no service reads (typo? renamed setting?): {unknown}"
    required = {"TISSFLOW_MONGODB_URL", "TISSFLOW_INTERNAL_TOKEN"}
    missing_secret = required - set(secret_example()[SECRET])
    assert not missing_secret, f"secrets.example.yaml lacks {missing_secret}"
    in_config = required & keys - set(secret_example()[SECRET])
    assert not in_config, f"secrets in the ConfigMap: {in_config}"


def test_every_secret_reference_is_documented(objs: tuple[Obj, ...]) -> None:
    example = secret_example()
    refs: set[tuple[str, str | None]] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "secretKeyRef" in node:
                refs.add((node["secretKeyRef"]["name"], node["secretKeyRef"]["key"]))
            if "secretRef" in node:
                refs.add((node["secretRef"]["name"], None))
            if "secretName" in node and "items" in node:
                refs.update((node["secretName"], i["key"]) for i in node["items"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for obj in objs:
        if obj["kind"] != "Ingress":  # its TLS Secret comes from cert-manager
            walk(obj)
    undocumented = {
        (name, key)
        for name, key in refs
        if name not in example or (key is not None and key not in example[name])
    }
    assert not undocumented, f"Secret keys read but not in secrets.example.yaml: {undocumented}"


def test_kafka_bootstrap_points_at_the_strimzi_cluster(objs: tuple[Obj, ...]) -> None:
    (kafka,) = of_kind(objs, "Kafka").values()
    bootstrap = one(objs, "ConfigMap", CONFIGMAP)["data"]["TISSFLOW_KAFKA_BOOTSTRAP"]
    plain = [x["port"] for x in kafka["spec"]["kafka"]["listeners"] if x["tls"] is False]
    expected = f"{kafka['metadata']['name']}-kafka-bootstrap:{plain[0]}"
    assert bootstrap == expected, f"TISSFLOW_KAFKA_BOOTSTRAP={bootstrap}, expected {expected}"


# -- Kafka topics -------------------------------------------------------------------------


def test_every_contract_topic_has_a_kafka_topic(overlay: str, objs: tuple[Obj, ...]) -> None:
    topics = {
        o["spec"].get("topicName", o["metadata"]["name"]): o
        for o in objs
        if o["kind"] == "KafkaTopic"
    }
    declared = {name: o["spec"]["partitions"] for name, o in topics.items()}
    missing = set(ALL_TOPICS) - set(declared)
    extra = set(declared) - set(ALL_TOPICS)
    assert not missing, f"topics in tissflow_contracts.ALL_TOPICS without a KafkaTopic: {missing}"
    assert not extra, f"KafkaTopics not in tissflow_contracts.ALL_TOPICS: {extra}"
    drift = {t: (declared[t], n) for t, n in ALL_TOPICS.items() if declared[t] != n}
    assert not drift, f"partitions differ (KafkaTopic, topics.py): {drift}"
    (kafka,) = of_kind(objs, "Kafka").values()
    brokers = sum(
        p["spec"]["replicas"]
        for p in of_kind(objs, "KafkaNodePool").values()
        if "broker" in p["spec"]["roles"]
        and p["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    )
    for name, topic in topics.items():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        replicas = topic["spec"]["replicas"]
        isr = int(topic["spec"].get("config", {}).get("min.insync.replicas", 1))
        assert replicas <= brokers, (
            f"{overlay}: {name} wants {replicas} replicas, {brokers} brokers"
        )
        assert isr <= replicas, f"{overlay}: {name} min.insync.replicas {isr} > replicas"
        if overlay == "production":
            assert (replicas, isr) == (3, 2), f"production {name}: replicas 3, min ISR 2"


# -- exposure and network policy ----------------------------------------------------------


def selector_matches(selector: Obj, labels: dict[str, str]) -> bool:
    if set(selector) - {"matchLabels", "matchExpressions"}:
        raise AssertionError(f"unknown selector fields: {selector}")
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def policy_types(policy: Obj) -> list[str]:
    spec = policy["spec"]
    return spec.get("policyTypes") or ["Ingress"] + (["Egress"] if "egress" in spec else [])


def port_allowed(rule: Obj, port: int) -> bool:
    ports = rule.get("ports")
    return not ports or any(p.get("port") in (None, port) for p in ports)


def ingress_allowed(
    policies: list[Obj], dest: dict[str, str], port: int, source: dict[str, str] | None
) -> bool:
    """May traffic reach pods labelled `dest` on `port`? `source` None = from outside the
    namespace (any other namespace or IP); otherwise from a pod here with those labels."""
    selecting = [
        p
        for p in policies
        if "Ingress" in policy_types(p) and selector_matches(p["spec"]["podSelector"], dest)
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get("ingress", []):
            if not port_allowed(rule, port):
                continue
            peers = rule.get("from")
            if not peers:
                return True
            for peer in peers:
                if source is None and ("namespaceSelector" in peer or "ipBlock" in peer):
                    return True
                if (
                    source is not None
                    and set(peer) == {"podSelector"}
                    and selector_matches(peer["podSelector"], source)
                ):
                    return True
    return False


def egress_allowed(policies: list[Obj], source: dict[str, str], dest: dict[str, str]) -> bool:
    selecting = [
        p
        for p in policies
        if "Egress" in policy_types(p) and selector_matches(p["spec"]["podSelector"], source)
    ]
    if not selecting:
        return True
    return any(
        not rule.get("to")
        or any(
            set(peer) == {"podSelector"} and selector_matches(peer["podSelector"], dest)
            for peer in rule["to"]
        )
        for p in selecting
        for rule in p["spec"].get("egress", [])
    )


def pod_labels(objs: tuple[Obj, ...]) -> dict[str, dict[str, str]]:
    """Labels of every pod the manifests make, by workload name."""
    return {
        o["metadata"]["name"]: o["spec"]["template"]["metadata"]["labels"]
        for o in objs
        if o["kind"] in ("Deployment", "StatefulSet", "Job")
    }


def test_only_the_gateway_is_reachable_from_outside(objs: tuple[Obj, ...]) -> None:
    for svc in of_kind(objs, "Service").values():
        spec = svc["spec"]
        assert spec.get("type", "ClusterIP") == "ClusterIP", f"{where(svc)} is {spec['type']}"
        assert not spec.get("externalIPs"), f"{where(svc)} has externalIPs"
    for obj in objs:
        pod = pod_spec(obj)
        if pod is None:
            continue
        assert not pod.get("hostNetwork"), f"{where(obj)} uses the host network"
        ports = [p for c in pod["containers"] for p in c.get("ports", [])]
        assert not [p for p in ports if "hostPort" in p], f"{where(obj)} has a hostPort"
    backends = [
        (path["backend"]["service"]["name"], path["backend"]["service"]["port"]["number"])
        for ing in of_kind(objs, "Ingress").values()
        for rule in ing["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert backends and set(backends) == {("gateway", SERVICE_PORTS["gateway"])}, (
        f"Ingress must route to gateway:{SERVICE_PORTS['gateway']} only, routes {backends}"
    )
    policies = list(of_kind(objs, "NetworkPolicy").values())
    assert any(p["spec"]["podSelector"] == {} and not p["spec"].get("ingress") for p in policies), (
        "no default-deny ingress NetworkPolicy"
    )
    pods = pod_labels(objs)
    pods["kafka (Strimzi)"] = KAFKA_POD_LABELS
    open_pods = {
        name
        for name, labels in pods.items()
        if ingress_allowed(policies, labels, SERVICE_PORTS.get(name, 27017), None)
    }
    assert open_pods == {"gateway"}, f"reachable from outside the namespace: {open_pods}"


def test_services_reach_each_other_kafka_and_mongodb(objs: tuple[Obj, ...]) -> None:
    policies = list(of_kind(objs, "NetworkPolicy").values())
    pods = pod_labels(objs)
    mongo = one(objs, "StatefulSet", "tissflow-mongodb")
    targets = {name: (pods[name], port) for name, port in SERVICE_PORTS.items()}
    mongo_port = pod_spec(mongo)["containers"][0]["ports"][0]["containerPort"]
    targets["mongodb"] = (pods["tissflow-mongodb"], mongo_port)
    targets["kafka"] = (KAFKA_POD_LABELS, 9092)
    blocked = [
        f"{src} -> {dst}:{port}"
        for src in SERVICES
        for dst, (labels, port) in targets.items()
        if dst != src
        and not (
            egress_allowed(policies, pods[src], labels)
            and ingress_allowed(policies, labels, port, pods[src])
        )
    ]
    assert not blocked, f"NetworkPolicies block: {blocked}"


def test_disruption_budgets_cover_gateway_and_validation(objs: tuple[Obj, ...]) -> None:
    pods = pod_labels(objs)
    budgets = of_kind(objs, "PodDisruptionBudget").values()
    for service in ("gateway", "validation"):
        assert any(selector_matches(b["spec"]["selector"], pods[service]) for b in budgets), (
            f"no PodDisruptionBudget selects {service}'s pods"
        )


# -- MongoDB and overlays -----------------------------------------------------------------


def test_mongodb_replica_set_is_consistent(overlay: str, objs: tuple[Obj, ...]) -> None:
    sts = one(objs, "StatefulSet", "tissflow-mongodb")
    headless = one(objs, "Service", sts["spec"]["serviceName"])
    assert headless["spec"].get("clusterIP") == "None", "the MongoDB Service must be headless"
    assert sts["spec"]["volumeClaimTemplates"], "MongoDB needs PVC templates"
    job = one(objs, "Job", "tissflow-mongodb-rs-init")
    env = {
        e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert int(env["MONGODB_REPLICAS"]) == sts["spec"]["replicas"], (
        f"{overlay}: rs-init Job expects {env['MONGODB_REPLICAS']} members, "
        f"the StatefulSet runs {sts['spec']['replicas']}"
    )
    if overlay == "production":
        assert sts["spec"]["replicas"] == 3


def test_overlay_specifics(overlay: str, objs: tuple[Obj, ...]) -> None:
    hosts = [r["host"] for i in of_kind(objs, "Ingress").values() for r in i["spec"]["rules"]]
    tls = [
        h for i in of_kind(objs, "Ingress").values() for t in i["spec"]["tls"] for h in t["hosts"]
    ]
    assert hosts and sorted(hosts) == sorted(tls), f"{overlay}: TLS hosts {tls} != rules {hosts}"
    expected_host = {
        "production": "tissflow.example.com",
        "staging": "staging.tissflow.example.com",
    }
    assert hosts == [expected_host[overlay]]
    tags = {
        container_of(d)["image"].rsplit(":", 1)[1] for d in of_kind(objs, "Deployment").values()
    }
    assert len(tags) == 1, f"{overlay}: services on different releases: {tags}"
    replicas = {n: d["spec"]["replicas"] for n, d in of_kind(objs, "Deployment").items()}
    if overlay == "production":
        assert min(replicas.values()) >= 2, f"production: single replicas {replicas}"
        assert replicas["gateway"] >= 3 and replicas["validation"] >= 3
        (pool,) = of_kind(objs, "KafkaNodePool").values()
        assert pool["spec"]["replicas"] == 3
