"""Which API group serves a resource name, and whether it is namespaced (Kubernetes v1.33).

`kubectl auth can-i` asks the API server's discovery; the model has no server, so it keeps a
table of the resources a v1.33 cluster serves by default plus the CRDs this platform installs
(Prometheus operator, ArgoCD). CustomResourceDefinitions found in the manifests extend it.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from verification.errors import UserError
from verification.yamlio import iter_kind


@dataclass(frozen=True)
class ResourceType:
    plural: str
    group: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()


def _table(group: str, namespaced: bool, entries: str) -> list[ResourceType]:
    # entries: "plural singular short1,short2; ..." (singular and short names optional)
    parts = [[*entry.split(), "", ""] for entry in entries.split(";")]
    return [ResourceType(p[0], group, namespaced, p[1], tuple(filter(None, p[2].split(",")))) for p in parts]


# Order matters for ambiguous names (`events`): kubectl prefers the core group, as here.
BUILTIN_TYPES: list[ResourceType] = [
    *_table(
        "",
        True,
        "bindings binding; configmaps configmap cm; endpoints endpoints ep; events event ev; "
        "limitranges limitrange limits; persistentvolumeclaims persistentvolumeclaim pvc; pods pod po; "
        "podtemplates podtemplate; replicationcontrollers replicationcontroller rc; "
        "resourcequotas resourcequota quota; secrets secret; serviceaccounts serviceaccount sa; services service svc",
    ),
    # users/groups only exist as targets of the `impersonate` verb
    *_table(
        "",
        False,
        "componentstatuses componentstatus cs; namespaces namespace ns; nodes node no; "
        "persistentvolumes persistentvolume pv; users user; groups group",
    ),
    *_table(
        "admissionregistration.k8s.io",
        False,
        "mutatingwebhookconfigurations mutatingwebhookconfiguration; "
        "validatingwebhookconfigurations validatingwebhookconfiguration; "
        "validatingadmissionpolicies validatingadmissionpolicy; "
        "validatingadmissionpolicybindings validatingadmissionpolicybinding",
    ),
    *_table("apiextensions.k8s.io", False, "customresourcedefinitions customresourcedefinition crd,crds"),
    *_table("apiregistration.k8s.io", False, "apiservices apiservice"),
    *_table(
        "apps",
        True,
        "controllerrevisions controllerrevision; daemonsets daemonset ds; deployments deployment deploy; "
        "replicasets replicaset rs; statefulsets statefulset sts",
    ),
    *_table("authentication.k8s.io", False, "selfsubjectreviews; tokenreviews; uids; userextras"),
    *_table("authorization.k8s.io", True, "localsubjectaccessreviews"),
    *_table("authorization.k8s.io", False, "selfsubjectaccessreviews; selfsubjectrulesreviews; subjectaccessreviews"),
    *_table("autoscaling", True, "horizontalpodautoscalers horizontalpodautoscaler hpa"),
    *_table("batch", True, "cronjobs cronjob cj; jobs job"),
    *_table("certificates.k8s.io", False, "certificatesigningrequests certificatesigningrequest csr; signers"),
    *_table("coordination.k8s.io", True, "leases lease"),
    *_table("discovery.k8s.io", True, "endpointslices endpointslice"),
    *_table("events.k8s.io", True, "events event ev"),
    *_table(
        "flowcontrol.apiserver.k8s.io",
        False,
        "flowschemas flowschema; prioritylevelconfigurations prioritylevelconfiguration",
    ),
    *_table("networking.k8s.io", True, "ingresses ingress ing; networkpolicies networkpolicy netpol"),
    *_table("networking.k8s.io", False, "ingressclasses ingressclass; ipaddresses ipaddress; servicecidrs servicecidr"),
    *_table("node.k8s.io", False, "runtimeclasses runtimeclass"),
    *_table("policy", True, "poddisruptionbudgets poddisruptionbudget pdb"),
    *_table("rbac.authorization.k8s.io", True, "rolebindings rolebinding; roles role"),
    *_table("rbac.authorization.k8s.io", False, "clusterrolebindings clusterrolebinding; clusterroles clusterrole"),
    *_table("scheduling.k8s.io", False, "priorityclasses priorityclass pc"),
    *_table(
        "storage.k8s.io",
        False,
        "csidrivers csidriver; csinodes csinode; storageclasses storageclass sc; volumeattachments volumeattachment",
    ),
    *_table("storage.k8s.io", True, "csistoragecapacities csistoragecapacity"),
    # CRDs of the platform's own stack
    *_table(
        "monitoring.coreos.com",
        True,
        "alertmanagerconfigs alertmanagerconfig amcfg; alertmanagers alertmanager am; podmonitors podmonitor pmon; "
        "probes probe prb; prometheusagents prometheusagent; prometheuses prometheus prom; "
        "prometheusrules prometheusrule promrule; scrapeconfigs scrapeconfig scfg; "
        "servicemonitors servicemonitor smon; thanosrulers thanosruler ruler",
    ),
    *_table(
        "argoproj.io",
        True,
        "applications application app,apps; applicationsets applicationset appset,appsets; "
        "appprojects appproject appproj,appprojs",
    ),
]

_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_GROUP_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
_VERSION_RE = re.compile(r"^v\d+((alpha|beta)\d+)?$")


@dataclass(frozen=True)
class ResolvedResource:
    resource: str
    subresource: str
    group: str
    namespaced: bool | None  # None: not in the table (only possible with an explicit group)

    def display(self) -> str:
        combined = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        return f"{combined}.{self.group}" if self.group else combined


class ResourceCatalog:
    """Name lookups as kubectl does them: plural, singular or short name, optionally `.group`."""

    def __init__(self, extra: Iterable[ResourceType] = ()) -> None:
        self.types = [*BUILTIN_TYPES, *extra]

    @classmethod
    def with_crds(cls, objects: Iterable[dict[str, Any]]) -> "ResourceCatalog":
        return cls(_crd_types(objects))

    def lookup(self, name: str, group: str | None) -> ResourceType | None:
        for candidate in self.types:
            if group is not None and candidate.group != group:
                continue
            if name == candidate.plural or name == candidate.singular or name in candidate.short_names:
                return candidate
        return None

    def resolve(self, text: str, subresource: str = "", group: str | None = None) -> ResolvedResource:
        """`pods`, `pods/log`, `deployments.apps`, `deploy`, `*`, `*/scale`, `deployments.v1.apps`."""
        if not text or any(c.isspace() for c in text):
            raise UserError(f"bad resource {text!r}: expected RESOURCE[.GROUP][/SUBRESOURCE]")
        head, slash, sub = text.partition("/")
        if slash and not sub:
            raise UserError(f"bad resource {text!r}: empty subresource after '/'")
        if sub and subresource:
            raise UserError(f"bad resource {text!r}: subresource given twice")
        sub = sub or subresource
        if sub and not _NAME_RE.match(sub):
            raise UserError(f"bad resource {text!r}: subresource must be one lowercase word, e.g. pods/log")
        resource, dot, rest = head.partition(".")
        if dot and group is not None:
            raise UserError(f"bad resource {text!r}: API group given twice")
        if dot:
            if not rest or not _GROUP_RE.match(rest):
                raise UserError(f"bad resource {text!r}: bad API group {rest!r}")
            version, _, after = rest.partition(".")
            if after and _VERSION_RE.match(version) and self.lookup(resource, rest) is None:
                rest = after  # deployments.v1.apps
            group = rest
        if resource == "*":
            return ResolvedResource("*", sub, group or "", None)
        if not _NAME_RE.match(resource):
            raise UserError(f"bad resource {text!r}: resource names are lowercase, e.g. deployments.apps")
        found = self.lookup(resource, group)
        if found is None:
            if group is not None:
                # an explicit group is trusted, as the API server would for an unknown CRD
                return ResolvedResource(resource, sub, group, None)
            raise UserError(
                f"unknown resource {resource!r}: not a Kubernetes v1.33 resource nor a CRD in the manifests; "
                "give it with its API group, e.g. widgets.example.com"
            )
        return ResolvedResource(found.plural, sub, found.group, found.namespaced)


def _crd_types(objects: Iterable[dict[str, Any]]) -> list[ResourceType]:
    types = []
    for obj in iter_kind(objects, "CustomResourceDefinition"):
        spec = obj.get("spec") or {}
        names = spec.get("names") or {}
        if not names.get("plural") or not spec.get("group"):
            continue
        types.append(
            ResourceType(
                names["plural"],
                spec["group"],
                spec.get("scope", "Namespaced") == "Namespaced",
                names.get("singular", ""),
                tuple(names.get("shortNames") or ()),
            )
        )
    return types
