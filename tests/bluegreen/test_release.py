"""The Helm side of a switch: which values a release has, and the exact upgrade command."""

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from verification.bluegreen import release
from verification.errors import CommandError
from verification.models.delivery import chart

TARGET = release.Target("sample-app", "e2e", "test", context="kind-platform")


def test_colour_values_fill_gaps_from_the_environment() -> None:
    # The e2e values give tag 1.0.0 to both colours; the release overrides green only.
    values = {"activeColor": "green", "green": {"tag": "1.0.0", "version": "1.1.0"}}
    assert release.colour_values(TARGET, values) == {
        "activeColor": "green",
        "blue": {"tag": "1.0.0", "version": "1.0.0"},
        "green": {"tag": "1.0.0", "version": "1.1.0"},
    }
    assert release.colour_values(TARGET, None)["activeColor"] == "blue"


def test_a_digest_stays_with_the_tag_it_pins() -> None:
    digest = "sha256:" + "c" * 64
    values = {"activeColor": "blue", "green": {"tag": "1.1.0", "version": "1.1.0", "digest": digest}}
    colours = release.colour_values(TARGET, values)
    assert colours["green"] == {"tag": "1.1.0", "version": "1.1.0", "digest": digest}
    assert "digest" not in colours["blue"]  # the environment's tag, never another colour's digest


def test_upgrade_passes_every_file_explicitly_with_the_configmap_driver(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    extra = tmp_path / "no-nodeport.yaml"
    extra.write_text("service: {nodePort: null}\n")
    seen: dict[str, Any] = {}

    def fake_run(cmd: list[Any], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        cmd = [str(c) for c in cmd]
        seen["cmd"], seen["env"] = cmd, kwargs["env"]
        seen["state"] = yaml.safe_load(Path(cmd[cmd.index("-f", cmd.index(str(extra))) + 1]).read_text())
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(release, "run", fake_run)
    monkeypatch.setattr(chart, "helm", lambda: Path("/pinned/helm"))
    colours = {
        "activeColor": "green",
        "blue": {"tag": "1.0.0", "version": "1.0.0"},
        "green": {"tag": "1.0.0", "version": "1.1.0"},
    }
    release.apply(release.Target(**{**TARGET.__dict__, "extra_values": (str(extra),)}), colours, timeout=120)

    cmd = seen["cmd"]
    assert cmd[:5] == ["/pinned/helm", "upgrade", "--install", "sample-app", str(chart.CHART)]
    assert cmd[5:9] == ["--namespace", "test", "--kube-context", "kind-platform"]
    files = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "-f"]
    env_dir = chart.ENVIRONMENTS / "e2e"
    assert files[:3] == [str(env_dir / "values.yaml"), str(env_dir / "sample-app.yaml"), str(extra)]
    assert len(files) == 4  # the colour values come last, so they win
    # A deploy records the profile and chart it was deployed with (a later switch checks them).
    assert seen["state"] == {**colours, "deployedWith": {"profile": "e2e", "chart": release.chart_label()}}
    chart_meta = yaml.safe_load((chart.CHART / "Chart.yaml").read_text())
    assert release.chart_label() == f"{chart_meta['name']}-{chart_meta['version']}"
    assert "--reuse-values" not in cmd
    assert seen["env"]["HELM_DRIVER"] == "configmap"


def test_a_failing_helm_get_values_is_a_command_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # mypy found it: the command held helm's Path, and CommandError's shlex.join raised TypeError instead.
    def fake_run(cmd: list[Any], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(cmd, 1, "", "Error: Kubernetes cluster unreachable")

    monkeypatch.setattr(release, "run", fake_run)
    monkeypatch.setattr(chart, "helm", lambda: Path("/pinned/helm"))
    with pytest.raises(CommandError, match="cluster unreachable") as raised:
        release.current_values(TARGET)
    assert raised.value.cmd[:3] == ["/pinned/helm", "get", "values"]


@pytest.mark.parametrize("digest", ["sha256:abc", "SHA256:" + "a" * 64, "sha256:" + "A" * 64, "md5:" + "a" * 32])
def test_deploy_refuses_a_malformed_digest_in_one_line(digest: str, capsys: pytest.CaptureFixture[str]) -> None:
    from verification.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["bluegreen", "deploy", "sample-app", "--env", "test", "--digest", digest])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith(f"argument --digest: {digest!r} is not an image digest: expected sha256: and 64 lowercase hex")
