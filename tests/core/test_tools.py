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
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(UserError) as info:
        tools.require("promtool")
    message = str(info.value)
    assert "missing tool: promtool 3.16.0" in message
    assert "1.0.0" in message and "platform-verify tools install promtool" in message
    assert "\n" not in message


def test_cached_copy_is_found(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cached = tools.tool_dir("kind")
    cached.mkdir(parents=True)
    _fake_binary(cached, "kind", "kind v0.30.0 go1.26 linux/amd64")
    found = tools.require("kind")
    assert found.path == cached / "kind" and found.version == "0.30.0"


def test_unknown_tool_is_one_line_error() -> None:
    with pytest.raises(UserError, match="no pin for tool 'nope'"):
        tools.require("nope")


def test_install_hint_names_the_source() -> None:
    assert tools.describe_install("helm") == "go install helm.sh/helm/v3/cmd/helm@v3.22.0"
    assert tools.describe_install("wrk") == "apt-get install wrk"
    # Prometheus 3.16.0 is module v0.316.0: the proxy is asked for the module version.
    assert tools.describe_install("promtool") == "go install github.com/prometheus/prometheus/cmd/promtool@v0.316.0"
    assert tools.describe_install("amtool") == "go install github.com/prometheus/alertmanager/cmd/amtool@v0.35.0"


@pytest.mark.parametrize(
    ("package", "binary"),
    [
        ("github.com/prometheus/prometheus/cmd/promtool", "promtool"),
        ("helm.sh/helm/v3/cmd/helm", "helm"),
        ("github.com/cloudnativelabs/kube-router/v2", "kube-router"),
        ("sigs.k8s.io/kind", "kind"),
    ],
)
def test_go_binary_name(package: str, binary: str) -> None:
    assert tools.go_binary_name(package) == binary


def test_go_install_asks_for_the_module_version_and_keeps_the_tool_name(tmp_path, monkeypatch) -> None:
    calls = []

    def fake_run(cmd, env, timeout):
        calls.append(cmd)
        _fake_binary(tmp_path, "amtool", "amtool, version 0.35.0")

    monkeypatch.setattr(tools, "run", fake_run)
    monkeypatch.setattr(tools.shutil, "which", lambda name: "/usr/bin/go")
    pin = {
        "version": "3.16.0",
        "module": "github.com/prometheus/prometheus",
        "module_version": "v0.316.0",
        "package": "github.com/prometheus/alertmanager/cmd/amtool",
        "ldflags": "-X v.Version={version} -X v.Revision=v{version}",
    }
    tools._go_install("am-cli", pin, tmp_path)
    assert calls == [
        ["go", "install", "-ldflags", "-X v.Version=3.16.0 -X v.Revision=v3.16.0", pin["package"] + "@v0.316.0"]
    ]
    assert (tmp_path / "am-cli").is_file() and not (tmp_path / "amtool").exists()


def test_embedded_placeholders_build_through_the_module_builder(tmp_path, monkeypatch) -> None:
    from verification.cluster import gobuild

    built = []

    def fake_build(comp):
        built.append(comp)
        _fake_binary(tmp_path, "alertmanager", "alertmanager, version 0.35.0")
        return tmp_path

    monkeypatch.setattr(gobuild, "build", fake_build)
    monkeypatch.setattr(tools.shutil, "which", lambda name: "/usr/bin/go")
    target = tmp_path / "tool"
    target.mkdir()
    tools._go_install("prometheus-alertmanager", tools.tool_pin("prometheus-alertmanager"), target)
    (comp,) = built
    assert (comp.module, comp.version, comp.packages) == (
        "github.com/prometheus/alertmanager",
        "v0.35.0",
        ("cmd/alertmanager",),
    )
    assert "common/version.Version=0.35.0 " in comp.ldflags and "{" not in comp.ldflags
    assert comp.extra["embed_placeholders"] == ["ui/app/dist/elm/index.html", "ui/app/dist/mantine/index.html"]
    assert tools.installed_version("prometheus-alertmanager", target / "prometheus-alertmanager") == "0.35.0"
    assert os.path.basename(tools.describe_install("gitlab-ci-local")).startswith("npm install")


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
