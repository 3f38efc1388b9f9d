"""Pod Security admission, observed: many pods dry-run in one kubectl call, compared with the model.

`kubectl create --dry-run=server` of a List goes through validation and admission for each pod
and reports each outcome on its own line: `pod/<name>` on stdout when admitted, an error naming
the pod on stderr when not. An error that is not `violates PodSecurity` is API validation
refusing the spec before Pod Security ran ("invalid"): it says nothing about the model.
"""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from verification.models import podsecurity
from verification.verdicts.verdict import Row

# Upstream's ForbiddenReason strings; "profiles" is the plural the AppArmor check uses.
REASONS = (
    "allowPrivilegeEscalation != false", "forbidden AppArmor profiles", "forbidden AppArmor profile",
    "non-default capabilities", "unrestricted capabilities", "host namespaces", "hostPath volumes", "hostPort",
    "privileged", "procMount", "restricted volume types", "runAsNonRoot != true", "runAsUser=0", "seLinuxOptions",
    "seccompProfile", "forbidden sysctls", "hostProcess",
)  # fmt: skip
_REASON = re.compile(r"(?:^|, )(" + "|".join(re.escape(r) for r in REASONS) + r")(?= \(|, |$)")
_NAME = re.compile(r'\b[Pp]ods? "([^"]+)"')
_VIOLATES = 'violates PodSecurity "'


@dataclass(frozen=True)
class Observed:
    outcome: str  # "admitted", "forbidden", "invalid" or "no answer"
    message: str = ""

    @property
    def reasons(self) -> list[str]:
        return admission_reasons(self.message) if self.outcome == "forbidden" else []


def admission_reasons(message: str) -> list[str]:
    """The reasons, in order, of a `violates PodSecurity "<level>:<version>": r1 (d1), r2 (d2)` message."""
    start = message.find(_VIOLATES)
    if start < 0:
        return []
    body = message[message.index('": ', start) + 3 :]
    return [normalized(m.group(1)) for m in _REASON.finditer(body)]


def normalized(reason: str) -> str:
    # The API server copies AppArmor fields to annotations (version skew) before admission, so
    # admission may count one bad profile twice and pluralise; the check is the same.
    return "forbidden AppArmor profile" if reason == "forbidden AppArmor profiles" else reason


def parse_dry_run(stdout: str, stderr: str, names: list[str]) -> dict[str, Observed]:
    found: dict[str, Observed] = {}
    for line in stdout.splitlines():
        words = line.split()
        if words and words[0].startswith("pod/"):
            found[words[0][4:]] = Observed("admitted")
    for line in stderr.splitlines():
        match = _NAME.search(line)
        if match and match.group(1) in names:
            outcome = "forbidden" if _VIOLATES in line else "invalid"
            found[match.group(1)] = Observed(outcome, line.strip())
    return {name: found.get(name, Observed("no answer", stderr.strip()[-300:])) for name in names}


def dry_run_pods(
    kubectl: Callable[..., Any], namespace: str, pods: Mapping[str, Mapping[str, Any]], timeout: float = 300
) -> dict[str, Observed]:
    """Admission's answer for each named pod spec, from one server-side dry run of them all."""
    items = [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "spec": spec}
        for name, spec in pods.items()
    ]
    document = json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
    proc = kubectl("create", "--dry-run=server", "-o", "name", "-f", "-", input=document, check=False, timeout=timeout)
    return parse_dry_run(proc.stdout, proc.stderr, list(pods))


def flat_fields(spec: Mapping[str, Any]) -> str:
    """The checked fields of a spec as `path=value` (container and volume names, images left out)."""
    out: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key not in ("image", "imagePullPolicy", "resources") and (key != "name" or "sysctls" in path):
                    walk(value, f"{path}.{key}" if path else key)
        elif isinstance(node, list) and node and all(isinstance(i, dict) for i in node):
            for index, item in enumerate(node):
                walk(item, f"{path}[{index}]")
        else:
            out.append(f"{path}={json.dumps(node)}")

    walk(spec, "")
    return " ".join(out)


@dataclass(frozen=True)
class Comparison:
    name: str
    spec: Mapping[str, Any]
    level: str
    model: list[str]  # the model's `reason (detail)` strings; empty = admitted
    model_reasons: list[str]
    observed: Observed

    @property
    def verdict_agrees(self) -> bool:
        return (not self.model) == (self.observed.outcome == "admitted")

    @property
    def reasons_agree(self) -> bool:
        return self.verdict_agrees and [normalized(r) for r in self.model_reasons] == self.observed.reasons

    def row(self) -> Row:
        """Expected the model's answer, observed admission's; the spec's checked fields with the cause."""
        model = "admit" if not self.model else "reject: " + ", ".join(self.model)
        differs = "reasons differ" if self.verdict_agrees else "verdicts differ"
        return Row(
            f"{self.name} ({self.level})",
            model,
            f"{self.observed.outcome}: {self.observed.message or '-'}",
            f"{'' if self.reasons_agree else differs + '; '}spec {flat_fields(self.spec)}",
            self.reasons_agree,
        )


def compare(level: str, specs: Mapping[str, Mapping[str, Any]], observed: Mapping[str, Observed]) -> list[Comparison]:
    rows = []
    for name, spec in specs.items():
        failing = podsecurity.check_pod(spec, level)
        rows.append(
            Comparison(name, spec, level, [str(r) for _, r in failing], [r.reason for _, r in failing], observed[name])
        )
    return rows
