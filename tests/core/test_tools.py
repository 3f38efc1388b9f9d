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
    binary = _fake_binary(tmp_path, "amtool", "amtool, version 0.25.0 (branch: debian/sid)")
    assert tools.installed_version("amtool", binary) == "0.25.0"


def test_wrong_version_on_path_is_not_accepted(tmp_path, monkeypatch) -> None:
    _fake_binary(tmp_path, "promtool", "promtool, version 1.0.0")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(UserError) as info:
        tools.require("promtool")
    message = str(info.value)
    assert "missing tool: promtool 2.42.0" in message
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
    assert tools.describe_install("amtool") == "apt-get install prometheus-alertmanager"
    assert os.path.basename(tools.describe_install("gitlab-ci-local")).startswith("npm install")
