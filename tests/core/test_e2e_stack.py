"""The e2e stack's RBAC phase is derived from platform/manifests: every RBAC object of the
repository is applied, and a new component's rbac.yaml is picked up with no Python change."""

from pathlib import Path

from verification.e2e.stack import rbac_manifests
from verification.paths import MANIFESTS
from verification.yamlio import load_manifests, source_of

RBAC_KINDS = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}


def test_every_rbac_object_of_the_repository_is_in_the_rbac_phase() -> None:
    applied = {Path(source_of(o)) for o in load_manifests(rbac_manifests())}
    sources = {Path(source_of(o)) for o in load_manifests([MANIFESTS]) if o.get("kind") in RBAC_KINDS}
    assert sources, "no RBAC objects found: the test would prove nothing"
    assert sources <= applied, sorted(map(str, sources - applied))


def test_a_new_components_rbac_file_is_applied(tmp_path: Path) -> None:
    (tmp_path / "rbac").mkdir()
    for component in ("zeta", "alpha"):
        (tmp_path / component).mkdir()
        (tmp_path / component / "rbac.yaml").write_text("")
    (tmp_path / "alpha" / "controller.yaml").write_text("")  # not RBAC: not in the phase
    assert rbac_manifests(tmp_path) == [tmp_path / "rbac", tmp_path / "alpha/rbac.yaml", tmp_path / "zeta/rbac.yaml"]
