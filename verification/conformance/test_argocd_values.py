"""ArgoCD renders every app with the values of the environment it deploys to.

Mutant killed here: a staging Application that lists test's values (catalog/argocd.yaml).
"""

from typing import Any

from verification.models.delivery import argocd_values


def test_every_application_uses_its_environments_values(platform_objects: list[dict[str, Any]]) -> None:
    problems = argocd_values.check(platform_objects)
    assert not problems, "\n".join(problems)
