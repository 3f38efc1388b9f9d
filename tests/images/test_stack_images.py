"""Pure logic of the stack images: tags, cache keys, what each image's inputs are. No Docker."""

from pathlib import Path

import pytest

from verification.cluster import image_cache, stack_images
from verification.cluster.stack_programs import GoPrograms
from verification.errors import UserError
from verification.versions import prometheus_module_version, tool, versions


@pytest.mark.parametrize(
    ("ref", "tag"),
    [
        ("quay.io/prometheus/prometheus:v2.42.0", "v2.42.0"),
        ("registry.example.local:5000/platform/sample-app:1.0.0", "1.0.0"),
        ("localhost:5000/x:1@sha256:abc", "1"),
        ("registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.15.0", "v2.15.0"),
    ],
)
def test_ref_tag(ref: str, tag: str) -> None:
    assert image_cache.ref_tag(ref) == tag


@pytest.mark.parametrize("ref", ["quay.io/prometheus/prometheus", "localhost:5000/platform/app"])
def test_ref_without_tag_is_refused(ref: str) -> None:
    with pytest.raises(ValueError, match="no tag"):
        image_cache.ref_tag(ref)


def test_cache_key_ignores_mapping_order_and_sees_every_value() -> None:
    a = {"files": {"a": "1", "b": "2"}, "base": "debian:x"}
    b = {"base": "debian:x", "files": {"b": "2", "a": "1"}}
    assert image_cache.cache_key(a) == image_cache.cache_key(b)
    assert image_cache.cache_key(a) != image_cache.cache_key({**a, "base": "debian:y"})
    assert image_cache.cache_key(a) != image_cache.cache_key({**a, "files": {"a": "1", "b": "3"}})


def test_file_digests_follow_content(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "sub" / "main.go").write_text("package main\n")
    before = image_cache.file_digests(tmp_path)
    assert sorted(before) == ["Dockerfile", "sub/main.go"]
    (tmp_path / "sub" / "main.go").write_text("package main // changed\n")
    after = image_cache.file_digests(tmp_path)
    assert after["Dockerfile"] == before["Dockerfile"]
    assert after["sub/main.go"] != before["sub/main.go"]


def test_every_stack_image_is_pinned_and_has_a_dockerfile() -> None:
    pinned = set(versions()["images"])
    for img in stack_images.all_images():
        assert img.name in pinned, f"{img.name} has no reference in platform/versions.yaml images:"
        assert img.ref.endswith(":" + img.version)
    for img in stack_images.STACK:
        assert (img.context / "Dockerfile").is_file(), img.context
    assert (stack_images.RUNTIME_BASE.context / "Dockerfile").is_file()


def test_unbuilt_lists_pinned_images_without_a_recipe(monkeypatch: pytest.MonkeyPatch) -> None:
    recipes = {img.name: img.ref for img in stack_images.all_images()}  # the platform pins more (not proven live)
    images = {**recipes, "grafana": "docker.io/grafana/grafana:1.2.3"}
    monkeypatch.setattr(stack_images, "versions", lambda: {"images": images})
    assert stack_images.unbuilt() == ["grafana"]


@pytest.mark.parametrize(
    ("release", "module"),
    # Checked against the module proxy: v0.42.0's VERSION is 2.42.0, v0.316.0's is 3.16.0.
    [("v2.42.0", "v0.42.0"), ("v3.16.0", "v0.316.0"), ("3.0.1", "v0.300.1"), ("v3.5.2", "v0.305.2")],
)
def test_prometheus_module_version(release: str, module: str) -> None:
    assert prometheus_module_version(release) == module


def test_prometheus_builds_its_module_at_v0_and_stamps_the_release(monkeypatch: pytest.MonkeyPatch) -> None:
    # Release v3.16.0 is module v0.316.0; the binary must still report 3.16.0 (= promtool's version).
    monkeypatch.setattr(stack_images.go_build.gobuild, "go_version", lambda: "go1.26.8")
    prom = stack_images._by_name("prometheus")
    assert prom.go is not None
    comp = prom.go.component("v3.16.0")
    assert (comp.module, comp.version) == ("github.com/prometheus/prometheus", "v0.316.0")
    assert comp.binaries() == ["prometheus", "promtool"]
    assert "common/version.Version=3.16.0 " in comp.ldflags
    assert "common/version.Revision=v3.16.0 " in comp.ldflags
    assert prom.go.inputs("v3.16.0")["module_version"] == "v0.316.0"


def test_alertmanager_builds_from_its_module_with_ui_placeholders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack_images.go_build.gobuild, "go_version", lambda: "go1.26.8")
    am = stack_images._by_name("alertmanager")
    assert am.go is not None and am.binaries == ("alertmanager", "amtool")
    comp = am.go.component(am.version)
    assert (comp.module, comp.version) == ("github.com/prometheus/alertmanager", tool("amtool")["module_version"])
    assert comp.extra["embed_placeholders"] == tool("prometheus-alertmanager")["embed_placeholders"]
    with_ui = stack_images.go_build.GoPrograms("alertmanager", am.go.packages, am.go.module, am.go.ldflags)
    assert am.go.inputs(am.version) != with_ui.inputs(am.version)  # the placeholders are part of the key


def test_placeholders_fill_a_writable_copy_of_the_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gobuild = stack_images.go_build.gobuild
    monkeypatch.setenv("PLATFORM_VERIFY_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "mod"
    (src / "ui").mkdir(parents=True)
    (src / "ui" / "web.go").write_text("package ui\n")
    (src / "ui" / "web.go").chmod(0o444)  # as in the module cache
    comp = gobuild.Component("am", "example.com/am", "v1.0.0", ("cmd/am",))
    assert gobuild.source_with_placeholders(comp, src) == src  # nothing to add: build in place
    comp = gobuild.Component(
        "am", "example.com/am", "v1.0.0", ("cmd/am",), extra={"embed_placeholders": ["ui/app/dist/elm/index.html"]}
    )
    work = gobuild.source_with_placeholders(comp, src)
    assert work != src and (work / "ui" / "web.go").read_text() == "package ui\n"
    assert (work / "ui" / "app" / "dist" / "elm" / "index.html").read_text() == gobuild.PLACEHOLDER_TEXT
    assert not (src / "ui" / "app").exists()
    assert gobuild.cache_key(comp, "go1") != gobuild.cache_key(
        gobuild.Component("am", "example.com/am", "v1.0.0", ("cmd/am",)), "go1"
    )
    clash = gobuild.Component(
        "am", "example.com/am", "v1.0.1", ("cmd/am",), extra={"embed_placeholders": ["ui/web.go"]}
    )
    with pytest.raises(UserError, match=r"ui/web\.go exists"):
        gobuild.source_with_placeholders(clash, src)


def test_live_servers_match_the_pinned_cli_tools() -> None:
    # promtool/amtool check rules and routes offline; the live servers must be the same versions.
    prom = image_cache.ref_tag(versions()["images"]["prometheus"]).removeprefix("v")
    am = image_cache.ref_tag(versions()["images"]["alertmanager"]).removeprefix("v")
    assert tool("promtool")["version"] == tool("prometheus")["version"] == prom
    assert tool("amtool")["version"] == tool("prometheus-alertmanager")["version"] == am
    # ... and built from the module versions those releases are tagged as.
    assert tool("promtool")["module_version"] == tool("prometheus")["module_version"] == prometheus_module_version(prom)
    assert tool("amtool")["module_version"] == tool("prometheus-alertmanager")["module_version"] == f"v{am}"
    for name in ("promtool", "prometheus", "amtool", "prometheus-alertmanager"):
        assert "common/version.Version={version} " in tool(name)["ldflags"], name


def test_operator_and_reloader_share_one_version() -> None:
    images = versions()["images"]
    operator = image_cache.ref_tag(images["prometheus-operator"])
    assert image_cache.ref_tag(images["prometheus-config-reloader"]) == operator
    assert versions()["components"]["prometheus-operator"] == operator


def test_ldflags_stamp_the_pinned_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack_images.go_build.gobuild, "go_version", lambda: "go1.26.8")
    operator = stack_images._by_name("prometheus-operator")
    assert operator.go is not None
    flags = operator.go.inputs("v0.82.2")["ldflags"]
    assert "common/version.Version=0.82.2 " in flags
    assert "common/version.Revision=v0.82.2 " in flags
    ksm = stack_images._by_name("kube-state-metrics")
    assert ksm.go is not None
    assert "common/version.Version=v2.15.0 " in ksm.go.inputs("v2.15.0")["ldflags"]


def test_operator_images_share_one_module_build() -> None:
    operator = stack_images._by_name("prometheus-operator")
    reloader = stack_images._by_name("prometheus-config-reloader")
    assert operator.go is reloader.go
    assert operator.go is not None
    assert operator.go.component(operator.version).binaries() == ["operator", "prometheus-config-reloader"]


def test_inputs_change_with_sources_base_and_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack_images, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(stack_images.go_build.gobuild, "go_version", lambda: "go1.26.8")
    ctx = tmp_path / "platform" / "images" / "netpol-probe"
    (ctx / "node_modules").mkdir(parents=True)
    (ctx / "Dockerfile").write_text("FROM scratch\n")
    (ctx / "main.go").write_text("package main\n")
    (ctx / "node_modules" / "ignored.js").write_text("generated\n")
    go = GoPrograms("netpol-probe", ldflags="-X main.version={version}", local=ctx)
    img = stack_images.StackImage("netpol-probe", ctx, go, ("netpol-probe",))
    first = stack_images.inputs(img, base="debian:a", runtime_base="rt:1")
    assert set(first["files"]) == {"platform/images/netpol-probe/Dockerfile", "platform/images/netpol-probe/main.go"}
    assert first["go"]["ldflags"] == f"-X main.version={img.version}"
    key = image_cache.cache_key(first)
    assert key == image_cache.cache_key(stack_images.inputs(img, base="debian:a", runtime_base="rt:1"))
    assert key != image_cache.cache_key(stack_images.inputs(img, base="debian:b", runtime_base="rt:1"))
    assert key != image_cache.cache_key(stack_images.inputs(img, base="debian:a", runtime_base="rt:2"))
    (ctx / "main.go").write_text("package main // changed\n")
    assert key != image_cache.cache_key(stack_images.inputs(img, base="debian:a", runtime_base="rt:1"))


def test_runtime_base_tag_is_derived_from_its_key() -> None:
    assert stack_images.runtime_base_ref("0123456789abcdef" * 4) == "platform-verify/runtime-base:0123456789ab"


def test_unknown_image_name_is_one_clear_error() -> None:
    from verification.errors import UserError

    with pytest.raises(UserError, match="unknown stack image 'nope'"):
        stack_images._by_name("nope")


def test_pull_still_builds_the_projects_own_images() -> None:
    to_pull, to_build = stack_images.plan("pull")
    assert {img.name for img in to_build} == {"sample-app", "sample2-app", "netpol-probe", "alert-receiver"}
    assert {img.name for img in to_pull} == {
        "prometheus",
        "alertmanager",
        "prometheus-operator",
        "prometheus-config-reloader",
        "kube-state-metrics",
    }
    assert all(not img.ref.startswith("registry.example.local/") for img in to_pull)
    assert stack_images.plan("build") == ([], list(stack_images.all_images()))


def test_unknown_image_source_is_one_clear_error() -> None:
    from verification.errors import UserError

    with pytest.raises(UserError, match="unknown image source 'nope'"):
        stack_images.plan("nope")


def test_module_builds_ignore_a_go_work_file_in_the_zip() -> None:
    # Prometheus v0.316.0's zip has go.work listing directories the zip does not contain.
    comp = stack_images.PROMETHEUS_GO.component("v3.16.0")
    assert stack_images.go_build.gobuild.go_env(comp.cgo)["GOWORK"] == "off"


@pytest.mark.parametrize(("kind", "image"), [("Prometheus", "prometheus"), ("Alertmanager", "alertmanager")])
def test_monitoring_resources_run_the_pinned_images(kind: str, image: str) -> None:
    # The operator starts what the resource names; `version` decides which flags and fields it emits.
    from verification.paths import MANIFESTS
    from verification.yamlio import load_manifests

    (resource,) = [o for o in load_manifests([MANIFESTS / "monitoring"]) if o.get("kind") == kind]
    assert resource["spec"]["image"] == versions()["images"][image]
    assert resource["spec"]["version"] == image_cache.ref_tag(versions()["images"][image])
