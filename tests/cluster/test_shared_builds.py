"""One Go build serves a tool and a stack image when every input is the same; keys follow inputs."""

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verification import tools
from verification.cluster import gobuild, stack_images
from verification.cluster.gobuild import Component

GO = "go1.26.8"


@pytest.mark.parametrize(
    ("image", "tool_names"),
    [("prometheus", ("promtool", "prometheus")), ("alertmanager", ("amtool", "prometheus-alertmanager"))],
)
def test_tools_and_their_stack_image_are_one_build(image: str, tool_names: tuple[str, ...]) -> None:
    img = stack_images._by_name(image)
    assert img.go is not None
    built_for_image = img.go.component(img.version)
    for name in tool_names:
        comp = tools.go_component(name)
        # The same output folder (name, module version, key of every input): the second asks, finds it.
        assert gobuild.output_dir(comp, GO) == gobuild.output_dir(built_for_image, GO)
        assert comp.expand(comp.ldflags) == built_for_image.expand(built_for_image.ldflags)
        assert tools.tool_pin(name)["package"].rsplit("/", 1)[-1] in comp.binaries()
        assert set(img.binaries) <= set(comp.binaries())


def test_shared_builds_stamp_the_release_as_before() -> None:
    # What `go install` stamped before: Version=<release>, Revision=v<release> (versions.yaml ldflags).
    for name, release in (("promtool", "3.16.0"), ("amtool", "0.35.0")):
        flags = tools.go_component(name).expand(tools.go_component(name).ldflags)
        assert f"common/version.Version={release} " in flags
        assert f"common/version.Revision=v{release} " in flags
        assert "{" not in flags


def test_the_key_of_an_existing_build_is_unchanged() -> None:
    # The Prometheus image build of this recipe, keyed as before sharing: caches stay valid.
    comp = Component(
        "prometheus",
        "github.com/prometheus/prometheus",
        "v0.316.0",
        ("cmd/prometheus", "cmd/promtool"),
        ldflags=" ".join(
            f"-X github.com/prometheus/common/version.{k}={v}"
            for k, v in (("Version", "3.16.0"), ("Revision", "v3.16.0"), ("Branch", "HEAD"))
        )
        + " -X github.com/prometheus/common/version.BuildUser=platform-verify",
    )
    assert gobuild.cache_key(comp, GO) == "64a309bc86d5"
    assert gobuild.cache_key(tools.go_component("promtool"), GO) == "64a309bc86d5"


_TEXT = st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), min_size=1, max_size=12)
_COMPONENTS = st.builds(
    Component,
    name=st.just("c"),
    module=_TEXT,
    version=_TEXT,
    packages=st.lists(_TEXT, min_size=1, max_size=3).map(tuple),
    tags=_TEXT,
    ldflags=_TEXT,
    cgo=st.booleans(),
    extra=st.fixed_dictionaries({"embed_placeholders": st.lists(_TEXT, max_size=2)}),
)


@given(_COMPONENTS, st.sampled_from(["module", "version", "packages", "tags", "ldflags", "cgo", "placeholders"]))
def test_the_cache_key_changes_with_any_input(comp: Component, field: str) -> None:
    if field == "placeholders":
        changed = dataclasses.replace(comp, extra={"embed_placeholders": [*comp.extra["embed_placeholders"], "x/y"]})
    elif field == "cgo":
        changed = dataclasses.replace(comp, cgo=not comp.cgo)
    elif field == "packages":
        changed = dataclasses.replace(comp, packages=(*comp.packages, "cmd/other"))
    else:
        changed = dataclasses.replace(comp, **{field: getattr(comp, field) + "1"})
    assert gobuild.cache_key(changed, GO) != gobuild.cache_key(comp, GO)
    assert gobuild.cache_key(comp, GO) == gobuild.cache_key(dataclasses.replace(comp), GO)
    assert gobuild.cache_key(comp, GO + ".1") != gobuild.cache_key(comp, GO)


@given(st.sampled_from(["ldflags", "version", "module_version", "module"]), st.text("abz09.-_", min_size=1))
def test_a_tool_whose_recipe_differs_is_built_on_its_own(field: str, value: str) -> None:
    base = {
        "source": "go",
        "module": "example.com/m",
        "module_version": "v0.1.0",
        "version": "0.1.0",
        "ldflags": "-X main.v={version}",
    }
    pins = {"a": {**base, "package": "example.com/m/cmd/a"}, "b": {**base, "package": "example.com/m/cmd/b"}}
    pins["b"][field] = pins["b"][field] + value
    if field == "module":
        pins["b"]["package"] = f"{pins['b']['module']}/cmd/b"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tools, "tool_pin", pins.__getitem__)
        mp.setattr(tools, "all_tool_names", lambda: sorted(pins))
        a, b = tools.go_component("a"), tools.go_component("b")
    assert a.packages == ("cmd/a",) and b.packages == ("cmd/b",)
    assert gobuild.cache_key(a, GO) != gobuild.cache_key(b, GO)


def test_a_build_records_its_own_peak_rss_and_leaves_only_binaries(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PLATFORM_VERIFY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(gobuild, "go_version", lambda: GO)
    monkeypatch.setattr(gobuild, "module_dir", lambda comp: tmp_path)
    monkeypatch.setattr(gobuild.shutil, "which", lambda name: "/usr/bin/time")
    (tmp_path / "go.mod").write_text("module example.com/m\n")
    commands = []

    def fake_run(cmd, **kwargs):
        commands.append(cmd)
        Path(cmd[cmd.index("-o") + 1]).write_text("3355443\n")  # GNU time's %M: KiB
        (Path(cmd[cmd.index("-o", cmd.index("build")) + 1]) / "plugin").write_text("binary")

    monkeypatch.setattr(gobuild, "run", fake_run)
    out = gobuild.build(Component("cni-plugins", "example.com/m", "v1.0.0", ("plugin",)))
    (cmd,) = commands
    assert cmd[:3] == ["/usr/bin/time", "-f", "%M"] and cmd[5:7] == ["go", "build"]
    assert json.loads((out / "build.json").read_text())["peak_rss_mib"] == 3277
    # node_image copies the cni-plugins folder whole (but *.json): nothing else may be in it
    assert sorted(p.name for p in out.iterdir()) == ["build.json", "plugin"]
    assert not list(out.parent.glob("*.rss"))


def test_build_all_runs_jobs_builds_at_a_time_longest_first(tmp_path: Path, monkeypatch) -> None:
    import threading
    import time

    comps = {n: Component(n, f"example.com/{n}", "v1", (".",)) for n in ("etcd", "kubernetes", "runc", "coredns")}
    running, most, started = [0], [0], []
    lock = threading.Lock()

    def fake_build(comp: Component, rebuild: bool) -> Path:
        with lock:
            started.append(comp.name)
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return tmp_path / comp.name

    monkeypatch.setattr(gobuild, "components", lambda: comps)
    monkeypatch.setattr(gobuild, "build", fake_build)
    monkeypatch.setattr(gobuild, "build_pause", lambda rebuild: tmp_path / "pause")
    monkeypatch.setattr(gobuild, "JOBS", 2)
    built = gobuild.build_all()
    assert built == {n: tmp_path / n for n in [*comps, "pause"]}
    assert started[0] == "kubernetes" and most[0] == 2
    monkeypatch.setattr(gobuild, "JOBS", 1)
    started.clear()
    most[0] = 0
    assert gobuild.build_all(only=["runc", "etcd"]) == {"runc": tmp_path / "runc", "etcd": tmp_path / "etcd"}
    assert started == ["runc", "etcd"] and most[0] == 1


def test_stack_images_of_one_go_build_are_one_task(monkeypatch) -> None:
    import threading
    import time

    from verification.cluster import debian_base, docker

    running: set[str] = set()
    seen: list[tuple[str, frozenset[str]]] = []
    lock = threading.Lock()

    def fake_ensure(img, *, base, runtime_base, rebuild):
        with lock:
            seen.append((img.name, frozenset(running)))
            running.add(img.name)
        time.sleep(0.02)
        with lock:
            running.discard(img.name)
        return f"ref/{img.name}"

    monkeypatch.setattr(stack_images, "_ensure", fake_ensure)
    monkeypatch.setattr(stack_images, "_forget_old_runtime_bases", lambda keep: None)
    monkeypatch.setattr(stack_images, "run", lambda *a, **k: None)
    monkeypatch.setattr(docker, "ensure_engine", lambda: None)
    monkeypatch.setattr(debian_base, "ensure_base_image", lambda: "base")
    monkeypatch.setattr(gobuild, "JOBS", 2)
    names = ["prometheus-operator", "prometheus-config-reloader", "kube-state-metrics", "alertmanager"]
    assert sorted(stack_images.build_all(names=names)) == sorted(f"ref/{n}" for n in names)
    order = [name for name, _ in seen if name != "runtime-base"]
    assert order.index("prometheus-config-reloader") > order.index("prometheus-operator")
    together = {name: others for name, others in seen}
    assert "prometheus-operator" not in together["prometheus-config-reloader"]  # never the same build twice at once
    assert any(others for name, others in seen if name != "runtime-base")  # the other groups ran beside it
