"""The CRD schema model: OpenAPI v3 structural schemas translated with the API server's semantics."""

from typing import Any

import pytest

from verification.errors import UserError
from verification.models.schema import crd as crd_schema

# A hand-written structural schema with the constructs upstream CRDs use.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["port"],
            "properties": {
                "port": {"x-kubernetes-int-or-string": True},
                "interval": {"type": "string", "pattern": "^[0-9]+s$"},
                "replicas": {"type": "integer", "minimum": 1, "exclusiveMinimum": True},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "raw": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
                    },
                },
                "note": {"type": "string", "nullable": True},
                "either": {
                    "type": "object",
                    "properties": {"x": {"type": "string"}, "y": {"type": "string"}},
                    "oneOf": [{"required": ["x"]}, {"required": ["y"]}],
                },
            },
        }
    },
}


def _errors(instance: dict[str, Any]) -> list[str]:
    validator = crd_schema._Validator(crd_schema.to_json_schema(SCHEMA))
    return sorted(e.message for e in validator.iter_errors(crd_schema._drop_nulls(instance)))


def test_valid_instance() -> None:
    spec = {"port": "http", "interval": "30s", "replicas": 2, "labels": {"a": "b"}, "raw": {"any": {"thing": 1}}}
    assert _errors({"spec": spec}) == []


def test_unknown_field_is_rejected_but_preserved_fields_are_not() -> None:
    assert _errors({"spec": {"port": 1, "replica": 2, "raw": {"free": True}}}) == [
        "Additional properties are not allowed ('replica' was unexpected)"
    ]


def test_int_or_string() -> None:
    assert _errors({"spec": {"port": 8080}}) == []
    assert _errors({"spec": {"port": 1.5}}) == ["1.5 is not of type 'integer', 'string'"]


def test_exclusive_minimum_boolean_of_openapi_v3_0() -> None:
    assert _errors({"spec": {"port": 1, "replicas": 1}}) == ["1 is less than or equal to the minimum of 1"]


def test_null_is_pruned_like_the_api_server_does() -> None:
    assert _errors({"spec": {"port": 1, "interval": None, "note": None}}) == []
    assert _errors({"spec": {"port": None}}) == ["'port' is a required property"]


def test_one_of_branches_do_not_reject_outer_fields() -> None:
    assert _errors({"spec": {"port": 1, "either": {"x": "1"}}}) == []
    assert len(_errors({"spec": {"port": 1, "either": {"x": "1", "y": "2"}}})) == 1


def test_list_types_set_and_map_reject_duplicates() -> None:
    ports = [{"name": "http", "port": 80}, {"name": "http", "port": 81}]
    assert _errors({"spec": {"port": 1, "tags": ["a", "a"], "ports": ports}}) == [
        "['a', 'a'] has non-unique elements",
        "duplicate entry with name='http' (list keys must be unique)",
    ]
    assert _errors({"spec": {"port": 1, "tags": ["a", "b"], "ports": ports[:1]}}) == []


def test_enum_and_pattern() -> None:
    assert _errors({"spec": {"port": 1, "mode": "c", "interval": "1m"}}) == [
        "'1m' does not match '^[0-9]+s$'",
        "'c' is not one of ['a', 'b']",
    ]


def test_descriptions_are_stripped_but_a_field_named_description_is_kept() -> None:
    node = {"description": "prose", "properties": {"description": {"type": "string", "description": "more"}}}
    assert crd_schema._strip_descriptions(node) == {"properties": {"description": {"type": "string"}}}


def test_module_path_follows_semantic_import_versioning() -> None:
    argocd, prometheus = crd_schema.SOURCES
    assert argocd.module_path == "github.com/argoproj/argo-cd/v3"
    assert prometheus.module_path == "github.com/prometheus-operator/prometheus-operator"


def test_missing_cache_names_the_fetch_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("PLATFORM_VERIFY_CACHE", str(tmp_path))
    with pytest.raises(UserError, match=r"CRD schemas not fetched for argocd v3\.0\.6, prometheus-operator"):
        crd_schema.require_fetched()
    monkeypatch.undo()


# --- against the pinned upstream schemas (fetched by `platform-verify crds fetch`) --------------


@pytest.fixture(scope="module")
def fetched() -> None:
    crd_schema.require_fetched()


SERVICE_MONITOR: dict[str, Any] = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "ServiceMonitor",
    "metadata": {"name": "sample-app", "namespace": "test", "labels": {"app.kubernetes.io/name": "sample-app"}},
    "spec": {
        "jobLabel": "app.kubernetes.io/name",
        "selector": {"matchLabels": {"app.kubernetes.io/name": "sample-app"}},
        "namespaceSelector": {"matchNames": ["test"]},
        "endpoints": [
            {
                "port": "metrics",
                "interval": "15s",
                "scrapeTimeout": "10s",
                "relabelings": [
                    {"action": "replace", "sourceLabels": ["__meta_kubernetes_namespace"], "targetLabel": "env"}
                ],
            }
        ],
    },
}


def test_service_monitor_is_valid(fetched: None) -> None:
    assert crd_schema.validate_document(SERVICE_MONITOR) == []


def test_service_monitor_mistakes(fetched: None) -> None:
    import copy

    bad = copy.deepcopy(SERVICE_MONITOR)
    endpoint = bad["spec"]["endpoints"][0]
    endpoint["scrapeTimout"] = endpoint.pop("scrapeTimeout")  # typo
    endpoint["interval"] = "15 seconds"  # not a Prometheus duration
    endpoint["relabelings"][0]["action"] = "rename"  # not a relabel action
    problems = crd_schema.validate_document(bad)
    assert [p.split(":")[0] for p in problems] == [
        "spec.endpoints.0",
        "spec.endpoints.0.interval",
        "spec.endpoints.0.relabelings.0.action",
    ]
    assert "unknown field ('scrapeTimout' was unexpected)" in problems[0]


def test_wrong_version_and_kind(fetched: None) -> None:
    assert crd_schema.validate_document({**SERVICE_MONITOR, "apiVersion": "monitoring.coreos.com/v1beta1"}) == [
        "apiVersion: monitoring.coreos.com/v1beta1 is not served by prometheus-operator v0.82.2 (served: v1)"
    ]
    assert crd_schema.validate_document({**SERVICE_MONITOR, "kind": "ServiceMonitors"}) == [
        "kind: ServiceMonitors is not a kind of monitoring.coreos.com in prometheus-operator v0.82.2"
    ]


def test_metadata_is_object_meta(fetched: None) -> None:
    bad = {**SERVICE_MONITOR, "metadata": {"name": "x", "label": {"a": "b"}}}
    assert crd_schema.validate_document(bad) == ["metadata: unknown field ('label' was unexpected)"]


def test_chart_custom_resources_are_valid(fetched: None) -> None:
    """The blue-green chart's ServiceMonitor, as rendered for every environment."""
    from verification.models.delivery import chart as bg

    renders = bg.render_many([("sample-app", env, "blue") for env in bg.environments()])
    custom = [o for r in renders.values() for o in r.objects if crd_schema.is_custom(o)]
    assert {o["kind"] for o in custom} == {"ServiceMonitor"}
    assert [p for o in custom for p in crd_schema.validate(o)] == []
