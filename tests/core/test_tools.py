"""Pinned tool resolution: version matching, cache lookup, one-line guidance when missing."""

import os
import stat

import pytest

from verification import tools
from verification.errors import UserError


def _fake_binary(directory, name: str, output: str):
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{output}'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_version_is_parsed_from_tool_output(tmp_path) -> None:
    binary = _fake_binary(tmp_path, "amtool", "amtool, version 0.35.0 (branch: HEAD, revision: v0.35.0)")
    assert tools.installed_version("amtool", binary) == "0.35.0"


def test_wrong_version_on_path_is_not_accepted(tmp_path, monkeypatch) -> None:
    _fake_binary(tmp_path, "promtool", "promtool, version 1.0.0")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PLATFORM_VERIFY_CACHE", str(tmp_path / "cache"))
    with pytest.raises(UserError) as info:
        tools.require("promtool")
    message = str(info.value)
    assert "missing tool: promtool 3.16.0" in message
    assert "1.0.0" in message and "platform-verify tools install promtool" in message
    assert "\n" not in message


def test_cached_copy_is_found(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("PLATFORM_VERIFY_CACHE", str(tmp_path))
    cached = tools.tool_dir("kind")
    cached.mkdir(parents=True)
    _fake_binary(cached, "kind", "kind v0.30.0 go1.26 linux/amd64")
    found = tools.require("kind")
    assert found.path == cached / "kind" and found.version == "0.30.0"


def test_unknown_tool_is_one_line_error() -> None:
    with pytest.raises(UserError, match="no pin for tool 'nope'"):
        tools.require("nope")


def test_install_hint_names_the_source() -> None:
    assert tools.describe_install("helm") == "go build of helm.sh/helm/v3/cmd/helm from helm.sh/helm/v3@v3.22.0"
    assert tools.describe_install("wrk") == "apt-get install wrk"
    # Prometheus 3.16.0 is module v0.316.0: the proxy is asked for the module version.
    assert tools.describe_install("promtool") == (
        "go build of github.com/prometheus/prometheus/cmd/promtool from github.com/prometheus/prometheus@v0.316.0"
    )
    assert tools.describe_install("amtool").endswith("from github.com/prometheus/alertmanager@v0.35.0")
    assert os.path.basename(tools.describe_install("gitlab-ci-local")).startswith("npm install")


@pytest.mark.parametrize(
    ("tool", "name", "packages"),
    [
        ("promtool", "prometheus", ("cmd/prometheus", "cmd/promtool")),
        ("prometheus", "prometheus", ("cmd/prometheus", "cmd/promtool")),
        ("amtool", "alertmanager", ("cmd/alertmanager", "cmd/amtool")),
        ("helm", "helm", ("cmd/helm",)),
        ("kind", "kind", (".",)),
        ("crane", "go-containerregistry", ("cmd/crane",)),
    ],
)
def test_go_tools_of_one_module_release_are_one_build(tool: str, name: str, packages: tuple[str, ...]) -> None:
    comp = tools.go_component(tool)
    assert (comp.name, comp.packages) == (name, packages)
    assert comp.version == tools.module_version(tools.tool_pin(tool))


def test_install_builds_the_module_version_and_keeps_the_tool_name(tmp_path, monkeypatch) -> None:
    from verification.cluster import gobuild

    built = []

    def fake_build(comp):
        built.append(comp)
        for binary in comp.binaries():
            _fake_binary(tmp_path, binary, f"{binary}, version 0.35.0")
        return tmp_path

    monkeypatch.setenv("PLATFORM_VERIFY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(gobuild, "build", fake_build)
    monkeypatch.setattr(tools.shutil, "which", lambda name: "/usr/bin/go")
    found = tools.install("prometheus-alertmanager")
    (comp,) = built
    assert (comp.module, comp.version, comp.packages) == (
        "github.com/prometheus/alertmanager",
        "v0.35.0",
        ("cmd/alertmanager", "cmd/amtool"),
    )
    assert "common/version.Version=0.35.0 " in comp.ldflags and "{" not in comp.ldflags
    assert "common/version.Revision=v0.35.0 " in comp.ldflags
    assert comp.extra["embed_placeholders"] == ["ui/app/dist/elm/index.html", "ui/app/dist/mantine/index.html"]
    # cmd/alertmanager's binary, under the tool's (Debian) name
    assert found.path == tools.tool_dir("prometheus-alertmanager") / "prometheus-alertmanager"
    assert found.path.read_text() == (tmp_path / "alertmanager").read_text()


def test_tools_differing_in_ldflags_or_version_are_separate_builds(monkeypatch) -> None:
    pins = {
        "a": {"source": "go", "module": "example.com/m", "package": "example.com/m/cmd/a", "version": "1.0.0"},
        "b": {"source": "go", "module": "example.com/m", "package": "example.com/m/cmd/b", "version": "1.0.0"},
        "c": {"source": "go", "module": "example.com/m", "package": "example.com/m/cmd/c", "version": "1.0.0"},
        "d": {"source": "go", "module": "example.com/m", "package": "example.com/m/cmd/d", "version": "1.0.1"},
    }
    pins["c"]["ldflags"] = "-X main.v={version}"
    monkeypatch.setattr(tools, "tool_pin", pins.__getitem__)
    monkeypatch.setattr(tools, "all_tool_names", lambda: sorted(pins))
    assert tools.go_component("a").packages == tools.go_component("b").packages == ("cmd/a", "cmd/b")
    assert tools.go_component("c").packages == ("cmd/c",) and tools.go_component("c").ldflags == "-X main.v=1.0.0"
    assert tools.go_component("d").packages == ("cmd/d",) and tools.go_component("d").version == "1.0.1"


def test_a_version_is_asked_once_per_unchanged_file(tmp_path) -> None:
    # Each call runs the binary; a conformance run requires the same tools dozens of times.
    counter = tmp_path / "calls"
    binary = tmp_path / "amtool"
    binary.write_text(f"#!/bin/sh\necho x >> {counter}\necho 'amtool, version 0.35.0'\n")
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    assert [tools.installed_version("amtool", binary) for _ in range(3)] == ["0.35.0"] * 3
    assert counter.read_text().count("x") == 1
    # A replaced binary is asked again.
    binary.write_text("#!/bin/sh\necho 'amtool, version 0.36.0 (a longer line than before)'\n")
    assert tools.installed_version("amtool", binary) == "0.36.0"
