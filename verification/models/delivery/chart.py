"""Blue-green chart model: render the chart per app x environment x active colour, and check it.

Every check takes one `Render` and returns readable violations (empty list = conforms), so
conformance, mutation tests and the CLI print the same sentences. Pods are modelled by the pod
templates of the rendered Deployments: a Service "selects" a Deployment's pods when its selector
is a non-empty subset of the template labels (Kubernetes Service semantics).
"""

import copy
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from verification import catalog
from verification.errors import CommandError, UserError
from verification.models import podsecurity
from verification.models.schema import builtin as schema
from verification.models.schema import crd as crd_schema
from verification.paths import CHARTS, ENVIRONMENTS, INTENT
from verification.run import run
from verification.tools import require
from verification.versions import image, versions
from verification.yamlio import load_documents_from_text, load_file

CHART = CHARTS / "bluegreen-app"
COLORS = ("blue", "green")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")  # a colour's `digest` value (values.schema.json says the same)
COMMON_VALUES = "values.yaml"
WORKLOADS_INTENT = INTENT / "workloads.yaml"
# Namespace a profile deploys into by default; `e2e` is a timing profile, not a namespace.
DEFAULT_NAMESPACE = {"e2e": "test"}
# conventions.md: the ports every app pod exposes, and the labels every app pod carries.
APP_PORTS = {"http": 8080, "metrics": 9100}
PART_OF = "devops-platform"
RUNTIME_UID = 10001
CONTRACT_ENV = (
    "APP_VERSION",
    "APP_COLOR",
    "HTTP_PORT",
    "METRICS_PORT",
    "DRAIN_DELAY_SECONDS",
    "MAX_CONNECTION_AGE_SECONDS",
    "FAULT_INJECTION",
    "LOG_LEVEL",
)
# Environments that must never run with fault injection.
NO_FAULTS = ("staging",)
NODEPORT_PROFILES = ("e2e",)


def other(color: str) -> str:
    if color not in COLORS:
        raise UserError(f"unknown colour {color!r} (blue or green)")
    return "green" if color == "blue" else "blue"


def environments() -> list[str]:
    """Environments (and profiles) that have values: platform/environments/<env>/values.yaml."""
    return list(catalog.current().environments)


def apps(env: str) -> list[str]:
    """Apps deployed in an environment: one values file per app beside the common one."""
    return list(catalog.current().apps_in(env))


def namespace_for(env: str) -> str:
    return DEFAULT_NAMESPACE.get(env, env)


def _env_dir(env: str) -> Path:
    directory = ENVIRONMENTS / env
    if not (directory / COMMON_VALUES).is_file():
        known = ", ".join(environments()) or "none"
        raise UserError(f"{directory / COMMON_VALUES}: no such environment {env!r} (known: {known})")
    return directory


def values_files(app: str, env: str) -> list[Path]:
    """The values files of one release, in the order Helm must apply them."""
    directory = _env_dir(env)
    app_file = directory / f"{app}.yaml"
    if not app_file.is_file():
        raise UserError(f"{app_file}: no values for app {app!r} in {env} (known: {', '.join(apps(env))})")
    return [directory / COMMON_VALUES, app_file]


def merged_values(app: str, env: str) -> dict[str, Any]:
    """Chart defaults overlaid with the environment's files (Helm's deep merge of maps)."""
    merged: dict[str, Any] = load_file(CHART / "values.yaml") or {}
    for path in values_files(app, env):
        data = load_file(path) or {}
        if not isinstance(data, dict):
            raise UserError(f"{path}: expected a mapping of values")
        merged = deep_merge(merged, data)
    return merged


def deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@cache
def helm() -> Path:
    """The pinned helm, resolved once per process (resolving runs `helm version`)."""
    return require("helm").path


def kube_version() -> str:
    return str(versions()["kubernetes"]["version"])


def helm_values_args(
    app: str, env: str, overrides: Mapping[str, Any] | None, tmpdir: Path, extra_files: Iterable[str | Path] = ()
) -> list[str]:
    """`-f` arguments: the environment files, extra files, then the overrides as one more file."""
    args: list[str] = []
    for path in [*values_files(app, env), *extra_files]:
        if not Path(path).is_file():
            raise UserError(f"{path}: no such values file")
        args += ["-f", str(path)]
    if overrides:
        extra = tmpdir / "overrides.yaml"
        extra.write_text(yaml.safe_dump(dict(overrides), sort_keys=False))
        args += ["-f", str(extra)]
    return args


@dataclass(frozen=True)
class Render:
    app: str
    env: str
    active: str
    namespace: str
    objects: tuple[dict[str, Any], ...] = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.app} in {self.env} (activeColor={self.active})"

    def find(self, kind: str, name: str) -> dict[str, Any] | None:
        return next((o for o in self.objects if o["kind"] == kind and o["metadata"].get("name") == name), None)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]


def render(
    app: str,
    env: str,
    active: str,
    *,
    chart: Path = CHART,
    overrides: Mapping[str, Any] | None = None,
    namespace: str | None = None,
    extra_files: Iterable[str | Path] = (),
) -> Render:
    """`helm template` of one release with the pinned helm and Kubernetes version."""
    other(active)  # validates the colour
    namespace = namespace or namespace_for(env)
    with tempfile.TemporaryDirectory(prefix="bluegreen-") as tmp:
        cmd: list[str | Path] = [helm(), "template", app, str(chart), "--namespace", namespace, "--kube-version"]
        cmd.append(kube_version())
        cmd += helm_values_args(app, env, {**(overrides or {}), "activeColor": active}, Path(tmp), extra_files)
        try:
            proc = run(cmd, timeout=60)
        except CommandError as exc:
            raise UserError(f"helm template {app} ({env}, activeColor={active}) failed: {exc.stderr.strip()}") from None
    objects = load_documents_from_text(proc.stdout, f"helm template {app} ({env}, activeColor={active})")
    return Render(app, env, active, namespace, tuple(objects))


def render_many(keys: Iterable[tuple[str, str, str]], **kwargs: Any) -> dict[tuple[str, str, str], Render]:
    """Render several (app, env, active) in parallel: helm start-up dominates a render."""
    keys = list(keys)
    with ThreadPoolExecutor(max_workers=4) as pool:
        renders = list(pool.map(lambda k: render(*k, **kwargs), keys))
    return dict(zip(keys, renders, strict=True))


def lint(app: str, env: str, *, chart: Path = CHART) -> list[str]:
    """`helm lint --strict` findings above INFO for one release's values (empty = clean)."""
    cmd: list[str | Path] = [helm(), "lint", "--strict", str(chart), "--namespace", namespace_for(env)]
    cmd += ["--kube-version", kube_version(), *(arg for path in values_files(app, env) for arg in ("-f", str(path)))]
    proc = run(cmd, check=False, timeout=60)
    findings = [line for line in proc.stdout.splitlines() if line.startswith(("[WARNING]", "[ERROR]"))]
    if proc.returncode != 0 and not findings:
        findings = [(proc.stderr or proc.stdout).strip()]
    return findings


# --- the pods a render creates -------------------------------------------------------------


def _template(deployment: Mapping[str, Any]) -> dict[str, Any]:
    return (deployment.get("spec") or {}).get("template") or {}


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return (_template(deployment).get("metadata") or {}).get("labels") or {}


def containers(deployment: Mapping[str, Any]) -> list[dict[str, Any]]:
    return (_template(deployment).get("spec") or {}).get("containers") or []


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: str(e.get("value", "")) for e in container.get("env") or []}


def selects(selector: Mapping[str, str] | None, labels: Mapping[str, str]) -> bool:
    """Service selector semantics: a non-empty selector selects pods carrying all its labels."""
    return bool(selector) and all(labels.get(k) == v for k, v in (selector or {}).items())


def colour_deployments(r: Render) -> dict[str, dict[str, Any] | None]:
    return {c: r.find("Deployment", f"{r.app}-{c}") for c in COLORS}


def selected_deployments(r: Render, selector: Mapping[str, str] | None) -> list[str]:
    return [d["metadata"]["name"] for d in r.of_kind("Deployment") if selects(selector, pod_labels(d))]


def _colours_of(r: Render, names: list[str]) -> list[str]:
    return sorted({pod_labels(r.find("Deployment", n) or {}).get("color", f"<{n}: no color label>") for n in names})


# --- checks: Render -> violations ----------------------------------------------------------


def check_services_select_one_colour(r: Render) -> list[str]:
    """`<app>` selects exactly the active colour's pods, `<app>-preview` exactly the idle one's."""
    found = []
    expected = {r.app: ("active", r.active), f"{r.app}-preview": ("preview", other(r.active))}
    for service in r.of_kind("Service"):
        name = service["metadata"]["name"]
        selector = (service.get("spec") or {}).get("selector")
        chosen = selected_deployments(r, selector)
        colours = _colours_of(r, chosen)
        if set(COLORS) <= set(colours):
            found.append(f"Service {name} selects both colours ({', '.join(chosen)}): selector {selector}")
            continue
        if name not in expected:
            continue
        role, want = expected[name]
        if chosen != [f"{r.app}-{want}"]:
            seen = ", ".join(chosen) or "no pods"
            hint = " (the active colour)" if role == "preview" and colours == [r.active] else ""
            found.append(
                f"Service {name} ({role}) must select exactly {r.app}-{want}'s pods "
                f"(activeColor={r.active}); it selects {seen}{hint}: selector {selector}"
            )
    return found + [f"Service {name} is missing" for name in expected if r.find("Service", name) is None]


def check_selectors_match_labels(r: Render) -> list[str]:
    """Each colour's Deployment and PDB select exactly that colour's pod template."""
    found = []
    deployments = colour_deployments(r)
    for color, deployment in deployments.items():
        if deployment is None:
            found.append(f"Deployment {r.app}-{color} is missing")
            continue
        name = deployment["metadata"]["name"]
        selector = deployment["spec"].get("selector") or {}
        match = selector.get("matchLabels") or {}
        labels = pod_labels(deployment)
        if selector.get("matchExpressions"):
            found.append(f"Deployment {name}: matchExpressions are not used by this platform's selectors")
        if not selects(match, labels):
            diff = {k: (v, labels.get(k)) for k, v in match.items() if labels.get(k) != v}
            found.append(
                f"Deployment {name}: selector {match} does not match its pod template labels "
                f"(selector value vs label: {diff or 'empty selector'})"
            )
        if labels.get("color") != color:
            found.append(f"Deployment {name}: pod label color={labels.get('color')!r}, expected {color!r}")
        overlap = [d for d in selected_deployments(r, match) if d != name]
        if overlap:
            found.append(f"Deployment {name}: selector {match} also selects the pods of {', '.join(overlap)}")
    for color in COLORS:
        pdb = r.find("PodDisruptionBudget", f"{r.app}-{color}")
        if pdb is None:
            found.append(f"PodDisruptionBudget {r.app}-{color} is missing")
            continue
        match = ((pdb.get("spec") or {}).get("selector") or {}).get("matchLabels")
        chosen = selected_deployments(r, match)
        if chosen != [f"{r.app}-{color}"]:
            found.append(
                f"PodDisruptionBudget {r.app}-{color} must select exactly {r.app}-{color}'s pods; "
                f"it selects {', '.join(chosen) or 'no pods'}"
            )
    return found


def check_probes(r: Render) -> list[str]:
    """Readiness on /readyz and liveness on /healthz, both on a declared container port."""
    found = []
    wanted = {"readinessProbe": "/readyz", "livenessProbe": "/healthz"}
    for deployment in r.of_kind("Deployment"):
        for container in containers(deployment):
            where = f"Deployment {deployment['metadata']['name']} container {container.get('name')}"
            for probe_name, path in wanted.items():
                probe = container.get(probe_name)
                if not probe:
                    found.append(f"{where}: {probe_name} is missing")
                    continue
                handler = probe.get("httpGet") or probe.get("tcpSocket") or probe.get("grpc") or {}
                port = handler.get("port")
                if not any(port in (p.get("name"), p.get("containerPort")) for p in container.get("ports") or []):
                    found.append(f"{where}: {probe_name} port {port!r} is not a container port")
                if (probe.get("httpGet") or {}).get("path") != path:
                    found.append(f"{where}: {probe_name} must GET {path}, not {handler.get('path')!r}")
    return found


def check_pod_security(r: Render) -> list[str]:
    """Pod Security restricted, plus the platform's hardening: read-only root, /tmp only, uid."""
    found = []
    for deployment in r.of_kind("Deployment"):
        name = f"Deployment {deployment['metadata']['name']}"
        spec = _template(deployment).get("spec") or {}
        metadata = _template(deployment).get("metadata") or {}
        found += [f"{name}: {reason}" for reason in podsecurity.violations(spec, "restricted", metadata=metadata)]
        if spec.get("automountServiceAccountToken") is not False:
            found.append(f"{name}: automountServiceAccountToken must be false")
        if spec.get("serviceAccountName") != r.app:
            found.append(f"{name}: serviceAccountName must be {r.app!r}, not {spec.get('serviceAccountName')!r}")
        if (spec.get("securityContext") or {}).get("runAsUser") != RUNTIME_UID:
            found.append(f"{name}: pod securityContext.runAsUser must be {RUNTIME_UID}")
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        for container in spec.get("containers") or []:
            where = f"{name} container {container.get('name')}"
            if (container.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True:
                found.append(f"{where}: readOnlyRootFilesystem must be true")
            for mount in container.get("volumeMounts") or []:
                volume = volumes.get(mount.get("name"), {})
                writable = not mount.get("readOnly")
                if writable and (mount.get("mountPath") != "/tmp" or "emptyDir" not in volume):
                    found.append(f"{where}: writable mount {mount.get('mountPath')} (only an emptyDir at /tmp)")
    return found


def check_images(r: Render, expected: str | None = None) -> list[str]:
    """Every image is pinned by tag (never latest); with `expected`, equals that reference."""
    found = []
    for deployment in r.of_kind("Deployment"):
        for container in containers(deployment):
            ref = str(container.get("image") or "")
            where = f"Deployment {deployment['metadata']['name']} container {container.get('name')}"
            _, tag, digest = split_image(ref)
            if digest and not DIGEST.fullmatch(digest):
                found.append(f"{where}: image {ref!r} has a malformed digest (sha256: and 64 hex digits)")
            elif digest:
                pass  # a digest pins exactly
            elif not tag:
                found.append(f"{where}: image {ref!r} has no tag")
            elif tag == "latest":
                found.append(f"{where}: image {ref!r} uses the latest tag")
            if expected is not None and ref != expected:
                found.append(f"{where}: image {ref!r} differs from platform/versions.yaml ({expected})")
    return found


def split_image(ref: str) -> tuple[str, str, str]:
    """(repository, tag, digest) of `repo[:port]/path[:tag][@digest]`; a missing part is empty."""
    name, _, digest = ref.partition("@")
    head, _, last = name.rpartition("/")
    base, _, tag = last.partition(":")
    return (f"{head}/{base}" if head else base), tag, digest


def check_image_pinned_in_versions(r: Render) -> list[str]:
    """Both colours pull the repository of images.<app> in platform/versions.yaml, and at least
    one colour runs its tag: the live version or, once deployed to the idle colour, the candidate
    (in GitOps environments the orchestrator writes colour tags into the environment files)."""
    reference = image(r.app)
    repository, tag, _ = split_image(reference)
    found = []
    running: dict[str, str] = {}
    for color, deployment in colour_deployments(r).items():
        for container in containers(deployment or {}):
            ref = str(container.get("image") or "")
            running[color] = ref
            if split_image(ref)[0] != repository:
                found.append(
                    f"Deployment {r.app}-{color}: image {ref!r} is not from {repository} (platform/versions.yaml)"
                )
    if running and tag not in {split_image(ref)[1] for ref in running.values()}:
        seen = ", ".join(f"{c} {ref}" for c, ref in running.items())
        found.append(f"neither colour runs images.{r.app} of platform/versions.yaml ({reference}): {seen}")
    return found


def _int_env(env: dict[str, str], name: str, where: str, found: list[str]) -> int:
    try:
        value = int(env[name])
    except (KeyError, ValueError):
        found.append(f"{where}: {name}={env.get(name)!r} is not a whole number of seconds")
        return 0
    if value < 0:
        found.append(f"{where}: {name}={value} is negative")
    return value


def check_shutdown_timing(r: Render) -> list[str]:
    """terminationGracePeriodSeconds > preStop sleep + DRAIN_DELAY_SECONDS, so the drain completes."""
    found = []
    for deployment in r.of_kind("Deployment"):
        name = f"Deployment {deployment['metadata']['name']}"
        spec = _template(deployment).get("spec") or {}
        grace = int(spec.get("terminationGracePeriodSeconds", 30))  # Kubernetes default
        for container in spec.get("containers") or []:
            pre_stop = ((container.get("lifecycle") or {}).get("preStop")) or {}
            if "exec" in pre_stop:
                found.append(f"{name}: preStop exec needs a shell the image does not have; use sleep")
            sleep = int((pre_stop.get("sleep") or {}).get("seconds", 0))
            drain = _int_env(_env(container), "DRAIN_DELAY_SECONDS", name, found)
            if grace <= sleep + drain:
                found.append(
                    f"{name}: terminationGracePeriodSeconds {grace} must exceed preStop sleep {sleep}s "
                    f"+ DRAIN_DELAY_SECONDS {drain}s, or the drain is cut short by SIGKILL"
                )
    return found


def check_runtime_contract(r: Render) -> list[str]:
    """conventions.md: labels, ports and environment of every app pod."""
    found = []
    for color, deployment in colour_deployments(r).items():
        if deployment is None:
            continue
        name = f"Deployment {deployment['metadata']['name']}"
        labels = pod_labels(deployment)
        wanted_labels = {"app.kubernetes.io/name": r.app, "app.kubernetes.io/part-of": PART_OF, "color": color}
        for key, value in wanted_labels.items():
            if labels.get(key) != value:
                found.append(f"{name}: pod label {key}={labels.get(key)!r}, expected {value!r}")
        for container in containers(deployment):
            ports = {
                (p.get("name"), p.get("containerPort"), p.get("protocol", "TCP")) for p in container.get("ports") or []
            }
            want_ports = {(n, p, "TCP") for n, p in APP_PORTS.items()}
            if ports != want_ports:
                found.append(f"{name}: container ports {sorted(ports)} != {sorted(want_ports)}")
            env = _env(container)
            missing = [v for v in CONTRACT_ENV if v not in env]
            if missing:
                found.append(f"{name}: environment lacks {', '.join(missing)}")
            if env.get("APP_COLOR", color) != color:
                found.append(f"{name}: APP_COLOR={env['APP_COLOR']!r} on the {color} colour")
            version = labels.get("app.kubernetes.io/version")
            if env.get("APP_VERSION") != version:
                found.append(f"{name}: APP_VERSION={env.get('APP_VERSION')!r} but pod label version={version!r}")
            for var, port in (("HTTP_PORT", 8080), ("METRICS_PORT", 9100)):
                if var in env and env[var] != str(port):
                    found.append(f"{name}: {var}={env[var]!r}, the contract says {port}")
            _int_env(env, "MAX_CONNECTION_AGE_SECONDS", name, found)
            fault = env.get("FAULT_INJECTION")
            if fault not in ("enabled", "disabled"):
                found.append(f"{name}: FAULT_INJECTION={fault!r} (enabled or disabled)")
            elif fault == "enabled" and r.env in NO_FAULTS:
                found.append(f"{name}: FAULT_INJECTION is enabled in {r.env}, where it must never be")
    return found


def _duration_seconds(value: Any) -> float:
    """Prometheus durations as used here (`10s`, `1m`, `500ms`)."""
    text = str(value)
    for suffix, factor in (("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)):
        if text.endswith(suffix) and text[: -len(suffix)].replace(".", "", 1).isdigit():
            return float(text[: -len(suffix)]) * factor
    raise ValueError(f"not a duration: {value!r}")


def check_service_monitor(r: Render) -> list[str]:
    """Scrapes `metrics` of both colours, timeout below interval, relabels env/app/color/version."""
    monitors = r.of_kind("ServiceMonitor")
    if not monitors:
        return [f"ServiceMonitor {r.app} is missing"]
    found = []
    for monitor in monitors:
        name = f"ServiceMonitor {monitor['metadata']['name']}"
        spec = monitor.get("spec") or {}
        match = (spec.get("selector") or {}).get("matchLabels")
        services = [s for s in r.of_kind("Service") if selects(match, s["metadata"].get("labels") or {})]
        scraped = {d for s in services for d in selected_deployments(r, (s.get("spec") or {}).get("selector"))}
        missing = {f"{r.app}-{c}" for c in COLORS} - scraped
        if missing:
            found.append(f"{name}: the pods of {', '.join(sorted(missing))} are behind no selected Service")
        for endpoint in spec.get("endpoints") or []:
            port = endpoint.get("port")
            for service in services:
                if port not in {p.get("name") for p in service["spec"].get("ports") or []}:
                    found.append(f"{name}: Service {service['metadata']['name']} has no port named {port!r}")
            if port != "metrics":
                found.append(f"{name}: scrapes port {port!r}; apps expose metrics on `metrics`")
            try:
                if _duration_seconds(endpoint.get("scrapeTimeout")) >= _duration_seconds(endpoint.get("interval")):
                    found.append(f"{name}: scrapeTimeout {endpoint.get('scrapeTimeout')} is not below interval")
            except ValueError as exc:
                found.append(f"{name}: {exc} (set interval and scrapeTimeout explicitly)")
            targets = {rl.get("targetLabel") for rl in endpoint.get("relabelings") or []}
            lacking = sorted({"env", "app", "color", "version"} - targets)
            if lacking:
                found.append(f"{name}: relabelings do not set {', '.join(lacking)}")
    return found


def check_node_port(r: Render) -> list[str]:
    """A NodePort only on the active Service, and only in the e2e profile."""
    found = []
    for service in r.of_kind("Service"):
        name = service["metadata"]["name"]
        if (service.get("spec") or {}).get("type") in ("NodePort", "LoadBalancer"):
            if r.env not in NODEPORT_PROFILES:
                found.append(f"Service {name}: type {service['spec']['type']} outside the e2e profile")
            elif name != r.app:
                found.append(f"Service {name}: only the active Service {r.app} may be a NodePort")
    return found


def check_schema(r: Render) -> list[str]:
    """Objects are valid: built-ins for the pinned Kubernetes, custom resources for the pinned CRDs."""
    return [v for o in r.objects if schema.is_builtin(o) for v in schema.validate(o)] + [
        v for o in r.objects if crd_schema.is_custom(o) for v in crd_schema.validate(o)
    ]


def check_intent_workloads(r: Render, workloads: list[dict[str, Any]]) -> list[str]:
    """The intent's workload entries for this app match what the pods carry (labels subset, ports equal).

    The NetworkPolicy truth table is computed from those entries; if the pods carried other
    labels or ports, the table would prove nothing about them.
    """
    found = []
    for color, deployment in colour_deployments(r).items():
        if deployment is None:
            continue
        labels = pod_labels(deployment)
        entries = [
            w
            for w in workloads
            if w.get("namespace") == r.namespace
            and (w.get("labels") or {}).get("app.kubernetes.io/name") == r.app
            and (w.get("labels") or {}).get("color", color) == color
        ]
        if not entries:
            found.append(f"intent workloads: no entry for {r.app} ({color}) in namespace {r.namespace}")
        ports = {
            (p.get("name"), p.get("containerPort"), p.get("protocol", "TCP"))
            for c in containers(deployment)
            for p in c.get("ports") or []
        }
        for entry in entries:
            where = f"intent workload {entry.get('namespace')}/{entry.get('name')}"
            wrong = {k: v for k, v in (entry.get("labels") or {}).items() if labels.get(k) != v}
            if wrong:
                found.append(f"{where}: labels {wrong} are not on the {color} pods ({labels})")
            declared = {
                (p.get("name"), p.get("port"), str(p.get("protocol", "TCP")).upper()) for p in entry.get("ports") or []
            }
            if {(n, p, proto) for n, p, proto in declared} != ports:
                found.append(f"{where}: ports {sorted(declared, key=str)} != the pods' {sorted(ports, key=str)}")
    return found


def check_switch_changes_only_services(a: Render, b: Render) -> list[str]:
    """Flipping activeColor must not touch Deployments or PDBs (no pod restarts on a switch)."""
    return [
        f"{kind} {obj['metadata']['name']} changes when activeColor flips"
        for kind in ("Deployment", "PodDisruptionBudget", "ServiceMonitor")
        for obj in a.of_kind(kind)
        if b.find(kind, obj["metadata"]["name"]) != obj
    ]


CHECKS: tuple[Callable[[Render], list[str]], ...] = (
    check_services_select_one_colour,
    check_selectors_match_labels,
    check_probes,
    check_pod_security,
    check_images,
    check_shutdown_timing,
    check_runtime_contract,
    check_service_monitor,
    check_node_port,
)


def violations(r: Render) -> list[str]:
    """Every single-render check, each violation prefixed with what was rendered."""
    return [f"{r.label}: {v}" for check in CHECKS for v in check(r)]


def load_workloads_intent() -> list[dict[str, Any]] | None:
    """platform/intent/workloads.yaml as a list of entries, or None while it does not exist."""
    if not WORKLOADS_INTENT.is_file():
        return None
    data = load_file(WORKLOADS_INTENT)
    if isinstance(data, dict):
        data = data.get("workloads", data)
    if not isinstance(data, list):
        raise UserError(f"{WORKLOADS_INTENT}: expected a list of workloads")
    return data
