"""Pure logic of the stack images: tags, cache keys, what each image's inputs are. No Docker."""

from pathlib import Path

import pytest

from verification.cluster import image_cache, stack_images
from verification.cluster.go_build import GoPrograms
from verification.versions import tool, versions


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


def test_prometheus_builds_its_module_at_v0_and_stamps_the_release(monkeypatch: pytest.MonkeyPatch) -> None:
    # Release v2.42.0 is module v0.42.0; the binary must still report 2.42.0 (= promtool's version).
    monkeypatch.setattr(stack_images.go_build.gobuild, "go_version", lambda: "go1.26.8")
    prom = stack_images._by_name("prometheus")
    assert prom.go is not None
    comp = prom.go.component("v2.42.0")
    assert (comp.module, comp.version) == ("github.com/prometheus/prometheus", "v0.42.0")
    assert comp.binaries() == ["prometheus", "promtool"]
    assert "common/version.Version=2.42.0 " in comp.ldflags
    assert "common/version.Revision=v2.42.0 " in comp.ldflags
    assert prom.go.inputs("v2.42.0")["module_version"] == "v0.42.0"
    assert set(prom.module_files) == {"consoles", "console_libraries"}


def test_live_servers_match_the_pinned_cli_tools() -> None:
    # promtool/amtool check rules and routes offline; the live servers must be the same versions.
    prom = image_cache.ref_tag(versions()["images"]["prometheus"]).removeprefix("v")
    am = image_cache.ref_tag(versions()["images"]["alertmanager"]).removeprefix("v")
    assert tool("promtool")["version"] == prom
    assert tool("amtool")["version"] == am


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
