"""Every pod template passes the Pod Security level its namespace enforces."""

from typing import Any

from verification.models import pod_security
from verification.yamlio import source_of


def test_pod_templates_meet_their_namespace_level(platform_objects: list[dict[str, Any]]) -> None:
    levels = pod_security.namespace_levels(platform_objects)
    problems = []
    for obj in platform_objects:
        spec = pod_security.pod_spec_of(obj)
        if spec is None:
            continue
        namespace = obj["metadata"].get("namespace", "default")
        level = levels.get(namespace, "privileged")
        for reason in pod_security.violations(spec, level):
            problems.append(
                f"{source_of(obj)}: {obj['kind']} {namespace}/{obj['metadata']['name']} ({level}): {reason}"
            )
    assert not problems, "Pod Security violations:\n" + "\n".join(problems)
