"""deploy/k8s renders, is schema-valid, and agrees with the code it deploys (offline, fast).

Each overlay is rendered by the real kustomize and validated by kubeconform `-strict`:
built-in objects against the Kubernetes JSON schemas of the `kubernetes-validate` package,
Strimzi's and the Gateway API's resources against those projects' own CRD schemas (see
`render.py`; nothing hand-written). Then the properties that matter are checked: ports and
URLs, probes, topics against `tissflow_contracts.ALL_TOPICS`, what is reachable from
outside the namespace.
"""

from __future__ import annotations

import ast
import functools
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from tissflow_contracts import ALL_TOPICS
from tissflow_runtime.local import SERVICES
from tissflow_runtime.settings import DEMO_INTERNAL_TOKEN, SERVICE_PORTS, ServiceSettings

from tests.deploy import render
from tests.deploy.render import Obj, object_id, pod_spec

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("staging", "production")
# The Kubernetes version whose schemas the built-in objects must satisfy.
KUBERNETES_VERSION = "1.35.0"
# Strimzi 1.2.0 (tools.sh) runs Kafka 4.2.x and 4.3.x; its only CRD API is v1.
STRIMZI_API = "kafka.strimzi.io/v1"
STRIMZI_KAFKA_VERSIONS = ("4.2.0", "4.2.1", "4.3.0", "4.3.1")
STRIMZI_GROUP = "kafka.strimzi.io"
CONFIGMAP = "tissflow-config"
SECRET = "tissflow-secrets"
IMAGE = "ghcr.io/tissflow/tissflow"
# Secrets Strimzi makes itself: the KafkaUser's password and the cluster CA's certificate.
STRIMZI_SECRETS = {"tissflow", "tissflow-kafka-cluster-ca-cert"}
# Labels Strimzi puts on the Kafka pods of cluster `tissflow-kafka` (kafka/kafka.yaml).
KAFKA_POD_LABELS = {"strimzi.io/cluster": "tissflow-kafka", "strimzi.io/kind": "Kafka"}


@functools.cache
def rendered_text(overlay: str) -> str:
    return render.render(overlay)[0]


@functools.cache
def rendered(overlay: str) -> tuple[Obj, ...]:
    return tuple(render.render(overlay)[1])


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


def test_kubeconform_strict_accepts_every_object(
    overlay: str, objs: tuple[Obj, ...], tmp_path: Path
) -> None:
    render.kubernetes_schemas(list(objs), KUBERNETES_VERSION, tmp_path / "k8s")
    kinds = render.crd_schemas(tmp_path / "crd")
    assert {
        "kafka.strimzi.io/Kafka",
        "gateway.networking.k8s.io/HTTPRoute",
        "monitoring.coreos.com/PrometheusRule",
    } <= set(kinds)
    out = render.kubeconform(rendered_text(overlay), KUBERNETES_VERSION, tmp_path)
    assert out.returncode == 0, f"{overlay}: kubeconform -strict:\n{out.stdout}{out.stderr}"
    assert f"{len(objs)} resources found" in out.stdout and "Skipped: 0" in out.stdout, out.stdout


def test_kubeconform_refuses_what_the_schemas_forbid(tmp_path: Path) -> None:
    """The validation is real: an unknown field in a Strimzi resource and in a Deployment
    each fail (a schema that accepted anything would let both through)."""
    objs = list(rendered("production"))
    kafka = next(o for o in objs if o["kind"] == "Kafka")
    deployment = next(o for o in objs if o["kind"] == "Deployment")
    render.kubernetes_schemas(objs, KUBERNETES_VERSION, tmp_path / "k8s")
    render.crd_schemas(tmp_path / "crd")
    for obj, where_ in ((kafka, ("spec", "kafka")), (deployment, ("spec",))):
        bad = yaml.safe_load(yaml.safe_dump(obj))
        target = bad
        for key in where_:
            target = target[key]
        target["replicaz"] = 3
        out = render.kubeconform(yaml.safe_dump(bad), KUBERNETES_VERSION, tmp_path)
        assert out.returncode != 0 and "replicaz" in out.stdout, out.stdout


def test_strimzi_resources_use_the_current_api(objs: tuple[Obj, ...]) -> None:
    strimzi = [o for o in objs if o["apiVersion"].startswith(STRIMZI_GROUP + "/")]
    assert {o["kind"] for o in strimzi} >= {"Kafka", "KafkaNodePool", "KafkaTopic"}
    assert {o["apiVersion"] for o in strimzi} == {STRIMZI_API}
    (kafka,) = of_kind(objs, "Kafka").values()
    assert kafka["spec"]["kafka"]["version"] in STRIMZI_KAFKA_VERSIONS


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
    assert ctr["image"].startswith(f"{IMAGE}:"), f"{service}: one image for all, {ctr['image']}"
    assert not ctr["image"].endswith(":latest"), f"{service}: pin a tag, not latest"
    assert ctr["command"] == ["python", "-m", f"tissflow_{service}"]
    assert [resolve_port(ctr, p["containerPort"]) for p in ctr["ports"]] == [port], (
        f"{service} listens on {port} (TISSFLOW_{service.upper()}_URL); the container says "
        f"{ctr['ports']}"
    )
    # The gateway stays ready while Kafka or MongoDB blink (it answers 503 on what needs
    # them); the others leave the Service endpoints until their dependencies are back.
    ready = "/healthz" if service == "gateway" else "/readyz"
    probes = (
        ("startupProbe", "/healthz"),
        ("readinessProbe", ready),
        ("livenessProbe", "/healthz"),
    )
    for probe, path in probes:
        assert probe in ctr, f"{service}: no {probe}"
        get = ctr[probe].get("httpGet", {})
        assert get.get("path") == path, f"{service}: {probe} must GET {path}"
        assert resolve_port(ctr, get["port"]) == port, f"{service}: {probe} on wrong port"
    pre_stop = ctr.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    assert 0 < pre_stop < pod["terminationGracePeriodSeconds"], f"{service}: preStop sleep"
    spread = {c["topologyKey"] for c in pod.get("topologySpreadConstraints", [])}
    assert {"kubernetes.io/hostname", "topology.kubernetes.io/zone"} <= spread, service
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
        walk(obj)
    undocumented = {
        (name, key)
        for name, key in refs
        if name not in STRIMZI_SECRETS
        and (name not in example or (key is not None and key not in example[name]))
    }
    assert not undocumented, f"Secret keys read but not in secrets.example.yaml: {undocumented}"


def test_kafka_bootstrap_points_at_the_strimzi_cluster(objs: tuple[Obj, ...]) -> None:
    (kafka,) = of_kind(objs, "Kafka").values()
    bootstrap = one(objs, "ConfigMap", CONFIGMAP)["data"]["TISSFLOW_KAFKA_BOOTSTRAP"]
    listeners = kafka["spec"]["kafka"]["listeners"]
    assert all(x["tls"] and x["authentication"]["type"] == "scram-sha-512" for x in listeners), (
        "every Kafka listener must be TLS with SCRAM-SHA-512"
    )
    expected = f"{kafka['metadata']['name']}-kafka-bootstrap:{listeners[0]['port']}"
    assert bootstrap == expected, f"TISSFLOW_KAFKA_BOOTSTRAP={bootstrap}, expected {expected}"
    config = one(objs, "ConfigMap", CONFIGMAP)["data"]
    assert config["TISSFLOW_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    user = one(objs, "KafkaUser", config["TISSFLOW_KAFKA_SASL_USERNAME"])
    assert user["spec"]["authentication"]["type"] == "scram-sha-512"
    assert user["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert "kafkaExporter" in kafka["spec"] and "metricsConfig" in kafka["spec"]["kafka"]


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
    assert not of_kind(objs, "Ingress"), "public traffic goes through the Gateway API"
    backends = [
        (ref["name"], ref["port"])
        for route in of_kind(objs, "HTTPRoute").values()
        for rule in route["spec"]["rules"]
        for ref in rule.get("backendRefs", [])
    ]
    assert backends and set(backends) == {("gateway", SERVICE_PORTS["gateway"])}, (
        f"HTTPRoutes must route to gateway:{SERVICE_PORTS['gateway']} only, routes {backends}"
    )
    all_policies = of_kind(objs, "NetworkPolicy")
    scrape = all_policies.pop("prometheus-scrape")
    (rule,) = scrape["spec"]["ingress"]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ], "only Prometheus's namespace scrapes"
    assert rule["ports"] == [{"protocol": "TCP", "port": "http"}], "and only the http port"
    policies = list(all_policies.values())
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
    targets["kafka"] = (KAFKA_POD_LABELS, 9093)
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


def test_disruption_budgets_cover_every_service_and_mongodb(objs: tuple[Obj, ...]) -> None:
    pods = pod_labels(objs)
    budgets = of_kind(objs, "PodDisruptionBudget").values()
    for service in (*SERVICES, "tissflow-mongodb"):
        assert any(selector_matches(b["spec"]["selector"], pods[service]) for b in budgets), (
            f"no PodDisruptionBudget selects {service}'s pods"
        )


def test_validation_scales_on_cpu_and_lag_within_its_partitions(objs: tuple[Obj, ...]) -> None:
    hpa = one(objs, "HorizontalPodAutoscaler", "validation")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "validation",
    }
    kinds = {m["type"] for m in hpa["spec"]["metrics"]}
    assert kinds == {"Resource", "External"}
    (lag,) = [m["external"] for m in hpa["spec"]["metrics"] if m["type"] == "External"]
    labels = lag["metric"]["selector"]["matchLabels"]
    assert labels == {"consumergroup": "tissflow-validation", "topic": "file.uploaded"}
    assert hpa["spec"]["maxReplicas"] <= ALL_TOPICS["file.uploaded"], (
        "more validation consumers than file.uploaded partitions would sit idle"
    )


def test_private_paths_never_reach_a_backend(objs: tuple[Obj, ...]) -> None:
    """/metrics, /internal/*, /readyz and /healthz: served by every process, never public."""
    route = one(objs, "HTTPRoute", "gateway")
    private = {"/internal", "/metrics", "/readyz", "/healthz"}
    blocked = {
        m["path"]["value"]
        for rule in route["spec"]["rules"]
        if not rule.get("backendRefs")
        and any(f["type"] == "RequestRedirect" for f in rule.get("filters", []))
        for m in rule["matches"]
    }
    assert private <= blocked, f"reach the gateway from outside: {private - blocked}"
    redirect = one(objs, "HTTPRoute", "gateway-http-redirect")
    (rule,) = redirect["spec"]["rules"]
    assert rule["filters"][0]["requestRedirect"]["scheme"] == "https"
    assert not rule.get("backendRefs"), "plain HTTP must only redirect"


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
    anti = pod_spec(sts)["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert anti[0]["topologyKey"] == "kubernetes.io/hostname", "one member per node"
    images = {c["image"] for o in objs if (ps := pod_spec(o)) for c in ps["containers"]}
    mongo_images = {i for i in images if i.startswith("mongo:")}
    assert mongo_images and all(i.count(".") >= 2 for i in mongo_images), (
        f"pin MongoDB to a patch release: {mongo_images}"
    )
    user_job = one(objs, "Job", "tissflow-mongodb-app-user")
    env = {e["name"]: e.get("value") for e in pod_spec(user_job)["containers"][0]["env"]}
    assert set(env["DATABASES"].split()) == {f"tissflow_{s}" for s in SERVICES}, (
        "the services' user must have readWrite on each service's database"
    )
    backup = one(objs, "CronJob", "tissflow-mongodb-backup")
    script = " ".join(pod_spec(backup)["containers"][0]["command"])
    assert "mongodump" in script and "--oplog" in script
    volumes = {v["name"]: v for v in pod_spec(backup)["volumes"]}
    claim = volumes["backup"]["persistentVolumeClaim"]["claimName"]
    assert one(objs, "PersistentVolumeClaim", claim)


def test_overlay_specifics(overlay: str, objs: tuple[Obj, ...]) -> None:
    expected_host = {
        "production": "tissflow.example.com",
        "staging": "staging.tissflow.example.com",
    }[overlay]
    (gateway,) = of_kind(objs, "Gateway").values()
    listeners = {x["name"]: x for x in gateway["spec"]["listeners"]}
    assert {x["hostname"] for x in listeners.values()} == {expected_host}
    assert listeners["https"]["tls"]["mode"] == "Terminate"
    routes = of_kind(objs, "HTTPRoute").values()
    assert {h for r in routes for h in r["spec"]["hostnames"]} == {expected_host}
    tags = {
        container_of(d)["image"].rsplit(":", 1)[1] for d in of_kind(objs, "Deployment").values()
    }
    assert len(tags) == 1, f"{overlay}: services on different releases: {tags}"
    hpa = one(objs, "HorizontalPodAutoscaler", "validation")
    replicas = {n: d["spec"].get("replicas") for n, d in of_kind(objs, "Deployment").items()}
    assert replicas.pop("validation") is None, "validation's count belongs to its HPA"
    replicas["validation"] = hpa["spec"]["minReplicas"]
    if overlay == "production":
        assert min(replicas.values()) >= 2, f"production: single replicas {replicas}"
        assert replicas["gateway"] >= 3
        (pool,) = of_kind(objs, "KafkaNodePool").values()
        assert pool["spec"]["replicas"] == 3


def test_internal_token_never_falls_back_to_the_demo_default(objs: tuple[Obj, ...]) -> None:
    """Outside development the services refuse the demo token, and every container names
    the Secret's key itself, so a Secret without it stops the pod instead of running with
    a default (issue 22, item 2)."""
    config = one(objs, "ConfigMap", CONFIGMAP)["data"]
    assert config.get("TISSFLOW_ENV") not in (None, "development", "test")
    for name, deployment in of_kind(objs, "Deployment").items():
        for container in pod_spec(deployment)["containers"]:
            env = {e["name"]: e for e in container.get("env", [])}
            token = env.get("TISSFLOW_INTERNAL_TOKEN")
            assert token, f"{name}: TISSFLOW_INTERNAL_TOKEN is not named from the Secret"
            ref = token["valueFrom"]["secretKeyRef"]
            assert ref["name"] == SECRET and ref["key"] == "TISSFLOW_INTERNAL_TOKEN"
            assert not ref.get("optional", False), f"{name}: the token must not be optional"
    with pytest.raises(ValueError, match="TISSFLOW_INTERNAL_TOKEN"):
        ServiceSettings(TISSFLOW_ENV=config["TISSFLOW_ENV"], internal_token=DEMO_INTERNAL_TOKEN)
    real = "x" * 48
    assert ServiceSettings(TISSFLOW_ENV=config["TISSFLOW_ENV"], internal_token=real).env


# -- monitoring ---------------------------------------------------------------------------


def exported_metrics() -> set[str]:
    """Metric names the code exports (prometheus_client declarations in libs/runtime and
    the services), with the suffixes Prometheus adds, plus Strimzi's Kafka Exporter's."""
    names = set()
    for path in [
        *(ROOT / "libs").glob("*/src/**/*.py"),
        *(ROOT / "services").glob("*/src/**/*.py"),
    ]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("Counter", "Gauge", "Histogram")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                base = str(node.args[0].value)
                names |= {base, f"{base}_total", f"{base}_count", f"{base}_bucket", f"{base}_sum"}
    return names | {"kafka_consumergroup_lag"}


def test_alerts_and_dashboard_read_metrics_that_exist(objs: tuple[Obj, ...]) -> None:
    import re

    rules = one(objs, "PrometheusRule", "tissflow")
    exprs = [r["expr"] for g in rules["spec"]["groups"] for r in g["rules"]]
    alerts = {r["alert"] for g in rules["spec"]["groups"] for r in g["rules"]}
    assert {
        "TissflowDeadLetters",
        "TissflowConsumerLagRising",
        "TissflowOutboxStuck",
        "TissflowHttpErrors",
    } <= alerts
    dashboard = json.loads(
        one(objs, "ConfigMap", "tissflow-grafana-dashboard")["data"]["tissflow-ops.json"]
    )
    exprs += [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    known = exported_metrics()
    for expr in exprs:
        used = set(re.findall(r"\b(tissflow_[a-z_]+|kafka_[a-z_]+)\b", expr))
        assert used and used <= known, f"{expr}: unknown metrics {used - known}"
    monitor = one(objs, "PodMonitor", "tissflow-services")
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["path"] == "/metrics" and endpoint["port"] == "http"
