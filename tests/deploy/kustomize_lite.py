"""A small kustomize renderer: just the subset `deploy/k8s/` uses, so tests run offline.

Supported kustomization fields: `resources` (files and directories), `namespace`, `labels`
(`pairs`, `includeSelectors: false`, `includeTemplates`), `images` (`newName`, `newTag`,
`digest`), `replicas` and `patches` (inline or `path`; a YAML list is a JSON6902 patch for
its `target`, a mapping is a strategic-merge patch whose lists of named items merge by
`name`). Transformers run in kustomize's order: patches, namespace, labels, replicas,
images. Anything else fails loudly (`UnsupportedKustomization`) rather than rendering
something kustomize would not; an `images`, `replicas` or `patches` entry that matches
nothing fails too (a typo there is silent in kustomize).

`test_k8s.py` compares this renderer's output with the real kustomize (`kustomize build`
or `kubectl kustomize`) when one is on the PATH.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]

SUPPORTED_FIELDS = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "labels",
    "images",
    "replicas",
    "patches",
}
SUPPORTED_TARGET_KEYS = {"group", "version", "kind", "name"}
# Kinds without a namespace (only those a kustomization here could plausibly hold).
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "IngressClass",
    "PriorityClass",
}
WORKLOADS_WITH_REPLICAS = {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}


class UnsupportedKustomization(ValueError):
    """The kustomization uses something this renderer does not implement."""


class NoMatch(ValueError):
    """A transformer entry matched no object."""


def render(directory: Path) -> list[Obj]:
    """Objects of `directory/kustomization.yaml`, as `kustomize build` would give them."""
    directory = Path(directory)
    kfile = directory / "kustomization.yaml"
    if not kfile.exists():
        raise UnsupportedKustomization(f"{directory}: no kustomization.yaml")
    spec = yaml.safe_load(kfile.read_text()) or {}
    unknown = set(spec) - SUPPORTED_FIELDS
    if unknown:
        raise UnsupportedKustomization(
            f"{kfile}: fields {sorted(unknown)} are not implemented by "
            f"tests/deploy/kustomize_lite.py; extend it (and its cross-check) first"
        )
    objs: list[Obj] = []
    for entry in spec.get("resources", []):
        path = directory / entry
        if path.is_dir():
            objs.extend(render(path))
        else:
            objs.extend(load_yaml_docs(path))
    for patch in spec.get("patches", []):
        apply_patch(objs, patch, directory)
    if "namespace" in spec:
        for obj in objs:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = spec["namespace"]
    for entry in spec.get("labels", []):
        apply_labels(objs, entry, kfile)
    for entry in spec.get("replicas", []):
        apply_replicas(objs, entry)
    for entry in spec.get("images", []):
        apply_image(objs, entry)
    return objs


def load_yaml_docs(path: Path) -> list[Obj]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc or "metadata" not in doc:
            raise UnsupportedKustomization(f"{path}: a document is not a Kubernetes object")
    return docs


def object_id(obj: Obj) -> tuple[str, str, str, str]:
    """(group, kind, namespace, name): how kustomize tells objects apart."""
    api = obj.get("apiVersion", "")
    group = api.rsplit("/", 1)[0] if "/" in api else ""
    meta = obj["metadata"]
    return group, obj["kind"], meta.get("namespace", ""), meta["name"]


# -- patches ------------------------------------------------------------------------------


def apply_patch(objs: list[Obj], entry: Obj, directory: Path) -> None:
    if set(entry) - {"patch", "path", "target"}:
        raise UnsupportedKustomization(f"patch options {sorted(entry)} not implemented")
    text = entry["patch"] if "patch" in entry else (directory / entry["path"]).read_text()
    body = yaml.safe_load(text)
    target = entry.get("target")
    if target is None:
        if not isinstance(body, dict):
            raise UnsupportedKustomization("a JSON6902 patch needs a target")
        group = body["apiVersion"].rsplit("/", 1)[0] if "/" in body["apiVersion"] else ""
        target = {"group": group, "kind": body["kind"], "name": body["metadata"]["name"]}
    if set(target) - SUPPORTED_TARGET_KEYS:
        raise UnsupportedKustomization(f"patch target keys {sorted(target)} not implemented")
    matched = [obj for obj in objs if target_matches(target, obj)]
    if not matched:
        raise NoMatch(f"patch target {target} matches no object")
    for obj in matched:
        if isinstance(body, list):
            patched = json6902(obj, body)
        else:
            patched = strategic_merge(obj, {k: v for k, v in body.items() if k != "metadata"})
            patched["metadata"] = strategic_merge(
                obj["metadata"],
                {k: v for k, v in body.get("metadata", {}).items() if k not in ("name",)},
            )
        obj.clear()
        obj.update(patched)


def target_matches(target: Obj, obj: Obj) -> bool:
    api = obj.get("apiVersion", "")
    group, _, version = api.rpartition("/")
    checks = {"group": group, "version": version, "kind": obj["kind"]}
    checks["name"] = obj["metadata"]["name"]
    return all(checks[k] == v for k, v in target.items())


def strategic_merge(base: Any, patch: Any) -> Any:
    """Maps merge key by key (None deletes); lists whose items all have `name` merge by
    name; other lists are replaced. Enough for the patches here; `$patch` is refused."""
    if isinstance(base, dict) and isinstance(patch, dict):
        if any(k.startswith("$") for k in patch):
            raise UnsupportedKustomization(f"strategic-merge directives {list(patch)}")
        out = copy.deepcopy(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = strategic_merge(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
        return out
    if (
        isinstance(base, list)
        and isinstance(patch, list)
        and all(isinstance(i, dict) and "name" in i for i in base + patch)
    ):
        out = copy.deepcopy(base)
        index = {item["name"]: n for n, item in enumerate(out)}
        for item in patch:
            if item["name"] in index:
                out[index[item["name"]]] = strategic_merge(out[index[item["name"]]], item)
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(patch)


def json6902(obj: Obj, ops: list[Obj]) -> Obj:
    out = copy.deepcopy(obj)
    for op in ops:
        kind = op["op"]
        if kind not in ("add", "replace", "remove", "test"):
            raise UnsupportedKustomization(f"JSON6902 op {kind!r} not implemented")
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        parent = out
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        last = parts[-1]
        where = f"{op['path']} of {obj['kind']}/{obj['metadata']['name']}"
        if isinstance(parent, list):
            if kind == "add":
                pos = len(parent) if last == "-" else int(last)
                parent.insert(pos, copy.deepcopy(op["value"]))
                continue
            idx = int(last)
            if not -len(parent) <= idx < len(parent):
                raise NoMatch(f"JSON6902 {kind}: no {where}")
        elif kind != "add" and last not in parent:
            raise NoMatch(f"JSON6902 {kind}: no {where}")
        key: Any = int(last) if isinstance(parent, list) else last
        if kind == "remove":
            del parent[key]
        elif kind == "test":
            if parent[key] != op["value"]:
                raise NoMatch(f"JSON6902 test failed at {where}")
        else:
            parent[key] = copy.deepcopy(op["value"])
    return out


# -- labels, replicas, images --------------------------------------------------------------


def apply_labels(objs: list[Obj], entry: Obj, kfile: Path) -> None:
    if set(entry) - {"pairs", "includeSelectors", "includeTemplates"}:
        raise UnsupportedKustomization(f"{kfile}: labels options {sorted(entry)}")
    if entry.get("includeSelectors"):
        raise UnsupportedKustomization(f"{kfile}: labels with includeSelectors: true")
    pairs = entry["pairs"]
    for obj in objs:
        obj["metadata"].setdefault("labels", {}).update(pairs)
        if entry.get("includeTemplates"):
            for meta in template_metadata(obj):
                meta.setdefault("labels", {}).update(pairs)


def template_metadata(obj: Obj) -> list[Obj]:
    """Metadata of the templates kustomize's `includeTemplates` labels."""
    spec = obj.get("spec", {})
    found = []
    if obj["kind"] == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    if "template" in spec:
        found.append(spec["template"].setdefault("metadata", {}))
    for claim in spec.get("volumeClaimTemplates", []):
        found.append(claim.setdefault("metadata", {}))
    return found


def apply_replicas(objs: list[Obj], entry: Obj) -> None:
    matched = [
        o
        for o in objs
        if o["kind"] in WORKLOADS_WITH_REPLICAS and o["metadata"]["name"] == entry["name"]
    ]
    if not matched:
        raise NoMatch(f"replicas entry {entry} matches no workload")
    for obj in matched:
        obj["spec"]["replicas"] = entry["count"]


IMAGE_RE = re.compile(r"^(?P<name>[^@]+?)(?::(?P<tag>[\w][\w.-]*))?(?:@(?P<digest>.+))?$")


def apply_image(objs: list[Obj], entry: Obj) -> None:
    if set(entry) - {"name", "newName", "newTag", "digest"}:
        raise UnsupportedKustomization(f"images options {sorted(entry)}")
    hits = 0
    for container in all_containers(objs):
        m = IMAGE_RE.match(container["image"])
        if m is None or m["name"] != entry["name"]:
            continue
        hits += 1
        name = entry.get("newName", m["name"])
        if "digest" in entry:
            container["image"] = f"{name}@{entry['digest']}"
        elif "newTag" in entry:
            container["image"] = f"{name}:{entry['newTag']}"
        else:
            tail = (f":{m['tag']}" if m["tag"] else "") + (f"@{m['digest']}" if m["digest"] else "")
            container["image"] = name + tail
    if not hits:
        raise NoMatch(f"images entry {entry} matches no container")


def pod_spec(obj: Obj) -> Obj | None:
    spec = obj.get("spec", {})
    if obj["kind"] == "Pod":
        return spec
    if obj["kind"] == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return spec.get("template", {}).get("spec")


def all_containers(objs: list[Obj]) -> list[Obj]:
    found = []
    for obj in objs:
        pod = pod_spec(obj)
        if pod is not None:
            found.extend(pod.get("initContainers", []) + pod.get("containers", []))
    return found
