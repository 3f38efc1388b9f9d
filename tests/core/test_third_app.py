"""Adding an app is data: a copy of the repository gains a third app by files under platform/ only,
and the catalog, the conformance models and the e2e stack plan all include it, with no Python change.

The copy's own `verification` package (byte-identical to this one) runs in a subprocess, so its
paths (verification/paths.py: the repository root is where the package lives) are the copy's.
"""

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from verification.paths import REPO_ROOT

pytestmark = pytest.mark.slow

MODEL, NEW = "sample2-app", "sample3-app"  # the new app reuses the model app's source
COPIED = ("platform", "verification", "conftest.py", "pyproject.toml", ".gitlab-ci.yml")
GENERATED = shutil.ignore_patterns("node_modules", "__pycache__", "vendor", "wheels", ".mypy_cache", "*.pyc")
# Conformance modules whose models enumerate apps; BEFORE: those that name an app's missing data.
BEFORE = ("test_dashboards.py", "test_argocd.py", "test_gitlab_ci.py")
CONFORMANCE = ("test_charts.py", "test_exposure.py", "test_availability.py", *BEFORE)
PLAN = """
import json
from verification import catalog
from verification.cluster import stack_images
from verification.e2e import stack
from verification.models.delivery import gitlab_ci
print(json.dumps({
    "catalog": catalog.current().names(),
    "releases": stack.APPS, "node_ports": stack.NODE_PORTS, "ready": stack.READY,
    "images": {i.name: i.ref for i in stack_images.APPS_IMAGES},
    "ci_apps": gitlab_ci.APPS, "ci_scenarios": sorted({a for s in gitlab_ci.SCENARIOS for a in s.apps}),
}))
"""


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path}: {old!r}"
    path.write_text(text.replace(old, new))


def _renamed(data: object) -> object:
    return yaml.safe_load(yaml.safe_dump(data).replace(MODEL, NEW))


def add_third_app(root: Path) -> None:
    """Everything a new app needs, as data: the model app's files and rows, renamed."""
    platform = root / "platform"
    shutil.copytree(platform / "apps" / MODEL, platform / "apps" / NEW, ignore=GENERATED)
    for values in (platform / "environments").glob(f"*/{MODEL}.yaml"):
        (values.parent / f"{NEW}.yaml").write_text(values.read_text().replace(MODEL, NEW).replace("30081", "30082"))
    image = f"  {MODEL}: registry.example.local/platform/{MODEL}:1.0.0\n"
    _replace(platform / "versions.yaml", image, image + image.replace(MODEL, NEW))
    # e2e: http + metrics of the new app's active NodePort Service (kind publishes 30080-30084).
    _replace(platform / "environments" / "e2e" / "overlay" / "allowances.yaml", '"4"', '"6"')
    workloads = platform / "intent" / "workloads.yaml"
    rows = yaml.safe_load(workloads.read_text())
    rows += [_renamed(row) for row in rows if row["labels"].get("app.kubernetes.io/name") == MODEL]
    workloads.write_text(yaml.safe_dump(rows, sort_keys=False))


def add_applications(root: Path) -> None:
    """ArgoCD: the model app's Application of each GitOps environment, renamed, in a file of its own."""
    argocd = root / "platform" / "manifests" / "argocd"
    docs = [d for f in sorted(argocd.glob("apps-*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]
    ours = [_renamed(d) for d in docs if d["kind"] == "Application" and d["metadata"]["name"].startswith(f"{MODEL}-")]
    (argocd / f"apps-{NEW}.yaml").write_text(yaml.safe_dump_all(ours, sort_keys=False))


def add_pipeline(root: Path) -> None:
    """GitLab CI: the model app's pipeline file, renamed, included by .gitlab-ci.yml."""
    ci = root / "platform" / "ci"
    (ci / f"{NEW}.yml").write_text((ci / f"{MODEL}.yml").read_text().replace(MODEL, NEW))
    include = f"  - local: platform/ci/{MODEL}.yml\n"
    _replace(root / ".gitlab-ci.yml", include, include + include.replace(MODEL, NEW))


def add_dashboard(root: Path) -> None:
    monitoring = root / "platform" / "manifests" / "monitoring"
    boards = list(yaml.safe_load_all((monitoring / "grafana-dashboards.yaml").read_text()))
    board = next(b for b in boards if b["metadata"]["name"] == f"grafana-dashboard-{MODEL}")
    (monitoring / f"grafana-dashboard-{NEW}.yaml").write_text(yaml.safe_dump(_renamed(board), sort_keys=False))
    mount = f"              - configMap: {{name: grafana-dashboard-{MODEL}}}\n"
    _replace(monitoring / "grafana-deployment.yaml", mount, mount + mount.replace(MODEL, NEW))


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root), "PLATFORM_VERIFY_ARTIFACTS": str(root / "artifacts")}
    return subprocess.run(
        [sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=900, check=False
    )


def _conformance(root: Path, *modules: str) -> dict[str, str]:
    """Test id -> outcome ("passed", "skipped" or the failure's text) of the copy's conformance modules."""
    report = root / "artifacts" / f"junit-{len(list(root.glob('artifacts/*')))}.xml"
    paths = [f"verification/conformance/{m}" for m in modules]
    _run(root, "-m", "pytest", *paths, "-q", "-p", "no:cacheprovider", f"--junitxml={report}")
    outcomes = {}
    for case in ET.parse(report).iter("testcase"):
        failure = case.find("failure") if case.find("failure") is not None else case.find("error")
        skipped = case.find("skipped") is not None
        outcomes[case.get("name", "")] = (
            "skipped" if skipped else "passed" if failure is None else failure.text or "failed"
        )
    return outcomes


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    for name in COPIED:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=GENERATED)
        else:
            shutil.copy(source, root / name)
    add_third_app(root)
    return root


def test_the_copy_runs_its_own_package(copy: Path) -> None:
    proc = _run(copy, "-c", "import verification.paths as p; print(p.REPO_ROOT)")
    assert proc.stdout.strip() == str(copy), proc.stderr


def test_catalog_and_e2e_stack_plan_include_the_third_app(copy: Path) -> None:
    proc = _run(copy, "-c", PLAN)
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["catalog"] == ["sample-app", "sample2-app", NEW]
    assert plan["releases"] == plan["catalog"] and plan["ci_apps"] == plan["catalog"] == plan["ci_scenarios"]
    assert plan["node_ports"] == {"sample-app": 30080, "sample2-app": 30081, NEW: 30082}
    assert {f"{NEW}-blue", f"{NEW}-green"} <= {
        name for ns, kind, name in plan["ready"] if (ns, kind) == ("test", "deployment")
    }
    assert plan["images"][NEW] == f"registry.example.local/platform/{NEW}:1.0.0"


def test_conformance_includes_the_third_app(copy: Path) -> None:
    # Without its dashboard, Applications and pipeline, those checks name the new app.
    before = _conformance(copy, *BEFORE)
    assert f"no dashboard with uid '{NEW}'" in before["test_dashboards_are_valid_and_complete"]
    assert f"{NEW}-staging" in before["test_every_app_has_an_application_per_environment"]
    assert f"{NEW}:deploy-test is missing" in before["test_job_definitions"]
    add_dashboard(copy)
    add_applications(copy)
    add_pipeline(copy)
    outcomes = _conformance(copy, *CONFORMANCE)
    new = {name: outcome for name, outcome in outcomes.items() if NEW in name and MODEL not in name}
    model = {name.replace(NEW, MODEL): outcome for name, outcome in new.items()}
    assert len(new) >= 20 and "passed" in new.values()
    # The new app fares exactly as the app it was copied from (a missing tool or schema fails both).
    assert {name: o == "passed" for name, o in model.items()} == {name: outcomes[name] == "passed" for name in model}
    shared = {name: o for name, o in outcomes.items() if "sample" not in name or (MODEL in name and NEW in name)}
    assert all(o == "passed" for o in shared.values()), shared
