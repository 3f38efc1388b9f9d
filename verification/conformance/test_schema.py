"""Every manifest is a valid object of the pinned Kubernetes version, strict on unknown fields."""

from typing import Any

from verification.models.schema import builtin as schema

# Custom resources are validated against their CRD schemas by the CRD model; these groups are
# the ones the platform deploys CRDs for.
CUSTOM_GROUPS = ("monitoring.coreos.com/", "argoproj.io/")


def test_manifests_exist(platform_objects: list[dict[str, Any]]) -> None:
    assert platform_objects, "platform/manifests holds no Kubernetes objects"


def test_builtin_objects_match_the_pinned_schema(platform_objects: list[dict[str, Any]]) -> None:
    problems = [
        problem
        for obj in platform_objects
        if not obj["apiVersion"].startswith(CUSTOM_GROUPS)
        for problem in schema.validate(obj)
    ]
    assert not problems, (
        f"{len(problems)} schema violation(s) for Kubernetes {schema.kubernetes_minor()}:\n" + "\n".join(problems)
    )


def test_every_object_names_itself(platform_objects: list[dict[str, Any]]) -> None:
    from verification.yamlio import source_of

    nameless = [f"{source_of(o)}: {o['kind']}" for o in platform_objects if not o["metadata"].get("name")]
    assert not nameless, "objects without metadata.name:\n" + "\n".join(nameless)
