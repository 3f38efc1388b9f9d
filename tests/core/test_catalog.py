"""The catalog: today's apps as read from platform/ (hand-checked), and one clear line for bad data."""

import shutil
from pathlib import Path

import pytest

from verification import catalog
from verification.errors import UserError
from verification.paths import REPO_ROOT
from verification.yamlio import load_file

# Hand-checked against platform/environments/*/, platform/apps/*/app.yaml and platform/versions.yaml.
APPS = ("sample-app", "sample2-app")


def test_the_repository_has_two_apps_in_three_environments() -> None:
    cat = catalog.current()
    assert cat.names() == APPS
    assert cat.environments == ("e2e", "staging", "test")
    assert all(cat.apps_in(env) == APPS for env in cat.environments)
    assert cat.node_ports("e2e") == {"sample-app": 30080, "sample2-app": 30081}
    assert cat.node_ports("test") == {} and cat.node_ports("staging") == {}
    assert [cat.app(a).image for a in APPS] == [f"registry.example.local/platform/{a}:1.0.0" for a in APPS]


def test_each_app_says_how_it_runs_from_source() -> None:
    node, python = catalog.current().app("sample-app"), catalog.current().app("sample2-app")
    assert (node.runtime, node.start, node.paths, node.modules, node.setup) == (
        "node", ("src/server.js",), ("node_modules",), (), "npm ci --no-audit --no-fund"
    )  # fmt: skip
    assert (python.runtime, python.start, python.paths, python.setup) == (
        "python", ("-m", "sample2_app"), (), "pip install -r requirements.txt"
    )  # fmt: skip
    assert python.modules == ("fastapi", "uvicorn", "prometheus_client", "pydantic_settings")
    assert node.source == REPO_ROOT / "platform" / "apps" / "sample-app"
    assert (python.source / python.start[1]).is_dir() and (node.source / node.start[0]).is_file()


def test_unknown_app_and_environment_are_named() -> None:
    with pytest.raises(UserError, match=r"unknown app 'nope' \(known: sample-app, sample2-app"):
        catalog.current().app("nope")
    with pytest.raises(UserError, match=r"environments/prod/values.yaml: no such environment 'prod'"):
        catalog.current().apps_in("prod")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The catalog's files only: environments, app descriptors, versions.yaml."""
    platform = tmp_path / "platform"
    shutil.copytree(REPO_ROOT / "platform" / "environments", platform / "environments")
    for app in APPS:
        (platform / "apps" / app).mkdir(parents=True)
        shutil.copy(REPO_ROOT / "platform" / "apps" / app / catalog.DESCRIPTOR, platform / "apps" / app)
    shutil.copy(REPO_ROOT / "platform" / "versions.yaml", platform)
    assert catalog.load(tmp_path).names() == APPS
    return tmp_path


def _refusal(root: Path) -> str:
    with pytest.raises(UserError) as caught:
        catalog.load(root)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_unknown_field_names_the_file_and_the_known_fields(root: Path) -> None:
    descriptor = root / "platform" / "apps" / "sample2-app" / catalog.DESCRIPTOR
    descriptor.write_text(descriptor.read_text() + "port: 8080\n")
    assert _refusal(root) == f"{descriptor}: unknown field(s) port (known: requires, runtime, setup, start)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("runtime: ruby\nstart: [app.rb]\n", "runtime 'ruby' is not one of node, python"),
        ("runtime: node\n", "start must be a non-empty list of arguments to node"),
        ("runtime: node\nstart: [a.js]\nrequires: {pkgs: [x]}\n", "requires takes modules and paths (lists of names)"),
        ("- runtime\n", "expected a mapping with requires, runtime, setup, start, got list"),
    ],
    ids=["runtime", "start", "requires", "not-a-mapping"],
)
def test_bad_descriptor_values(root: Path, text: str, expected: str) -> None:
    descriptor = root / "platform" / "apps" / "sample-app" / catalog.DESCRIPTOR
    descriptor.write_text(text)
    assert _refusal(root) == f"{descriptor}: {expected}"


def test_values_without_app_source(root: Path) -> None:
    values = root / "platform" / "environments" / "test" / "sample3-app.yaml"
    values.write_text("app: sample3-app\n")
    assert _refusal(root) == (
        f"{values}: app 'sample3-app' has no source (add platform/apps/sample3-app/app.yaml, or remove the values file)"
    )


def test_app_source_deployed_nowhere(root: Path) -> None:
    shutil.rmtree(root / "platform" / "apps" / "sample2-app")
    for values in (root / "platform" / "environments").glob("*/sample-app.yaml"):
        values.unlink()
    assert "app 'sample-app' has no source" not in _refusal(root)
    descriptor = root / "platform" / "apps" / "sample-app"
    (descriptor / catalog.DESCRIPTOR).write_text("runtime: node\nstart: [a.js]\n")
    assert _refusal(root).startswith(f"{descriptor / catalog.DESCRIPTOR}: app 'sample-app' is deployed nowhere")


def test_duplicate_node_port(root: Path) -> None:
    values = root / "platform" / "environments" / "e2e" / "sample2-app.yaml"
    values.write_text(values.read_text().replace("30081", "30080"))
    assert _refusal(root) == f"{values}: service.nodePort 30080 is sample-app.yaml's too (give each app its own)"


def test_missing_image_and_misnamed_values(root: Path) -> None:
    versions = root / "platform" / "versions.yaml"
    text = versions.read_text()
    versions.write_text(text.replace("  sample2-app: registry", "  other: registry"))
    assert _refusal(root) == f"{versions}: no image for app 'sample2-app' (add images.sample2-app)"
    versions.write_text(text)
    values = root / "platform" / "environments" / "staging" / "sample-app.yaml"
    values.write_text(values.read_text().replace("app: sample-app", "app: sample2-app"))
    assert _refusal(root) == f"{values}: app is 'sample2-app', but the file names 'sample-app' (make them equal)"


def test_e2e_node_ports_are_published_by_kind() -> None:
    """A new app's e2e NodePort must be one kind publishes on the host (platform/kind/cluster.yaml)."""
    cluster = load_file(REPO_ROOT / "platform" / "kind" / "cluster.yaml")
    published = {m["containerPort"] for node in cluster["nodes"] for m in node.get("extraPortMappings") or []}
    ports = catalog.current().node_ports("e2e")
    assert set(ports.values()) <= published, f"NodePorts {ports}, kind publishes {sorted(published)}"
