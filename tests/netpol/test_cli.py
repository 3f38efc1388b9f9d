"""`platform-verify netpol matrix|explain`: the JSON contract, exit codes, one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from verification.cli import main
from verification.paths import REPO_ROOT

MANIFESTS = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {env: prod}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-prod, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {env: prod}}}]
      ports: [{port: http}]
"""
# `tools` has no Namespace object: it carries only kubernetes.io/metadata.name, so env=prod
# does not match it.
WORKLOADS = """
- namespace: shop
  name: web
  labels: {app: web}
  ports: [{port: 8080, name: http}, {port: 9100, protocol: TCP, name: metrics}]
- namespace: shop
  name: db
  labels: {app: db}
  ports: [{port: 5432, protocol: TCP}]
- namespace: tools
  name: debug
  labels: {app: debug}
"""
EXPECTED_JSON = {
    "shop/web": {
        "shop/web:8080/TCP": True,
        "shop/web:9100/TCP": False,
        "shop/db:5432/TCP": True,
    },
    "shop/db": {
        "shop/web:8080/TCP": True,
        "shop/web:9100/TCP": False,
        "shop/db:5432/TCP": True,
    },
    "tools/debug": {
        "shop/web:8080/TCP": False,
        "shop/web:9100/TCP": False,
        "shop/db:5432/TCP": True,
    },
}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "all.yaml").write_text(MANIFESTS)
    (tmp_path / "workloads.yaml").write_text(WORKLOADS)
    return {"manifests": tmp_path / "manifests", "workloads": tmp_path / "workloads.yaml", "tmp": tmp_path}


def _args(files: dict[str, Path], *extra: str) -> list[str]:
    return ["netpol", "matrix", "--manifests", str(files["manifests"]), "--workloads", str(files["workloads"]), *extra]


def test_json_contract(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args(files, "--json")) == 0
    assert json.loads(capsys.readouterr().out) == EXPECTED_JSON


def test_text_output_is_a_grid_per_port(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args(files)) == 0
    out = capsys.readouterr().out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("port ")] == [
        "5432/TCP",
        "8080/TCP",
        "9100/TCP",
    ]
    # Row 3 (tools/debug) on port 8080: column 1 (shop/web) denied.
    section = out.split("port 8080/TCP")[1].split("\n\n")[0]
    assert [line.split()[-1] for line in section.splitlines() if "/" in line and line.split()[0].isdigit()] == [
        ".",
        ".",
        "X",
    ]


def test_manifests_accepts_several_paths(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    extra = files["tmp"] / "deny.yaml"
    extra.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny-egress, namespace: tools}\nspec: {podSelector: {}, policyTypes: [Egress]}\n"
    )
    assert main(_args(files, "--json", "--manifests", str(extra))) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["tools/debug"] == {"shop/web:8080/TCP": False, "shop/web:9100/TCP": False, "shop/db:5432/TCP": False}


def test_explain_exit_codes(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--manifests", str(files["manifests"]), "--workloads", str(files["workloads"])]
    assert main(["netpol", "explain", *common, "shop/db", "shop/web:8080/TCP"]) == 0
    assert "allowed by shop/web-from-prod" in capsys.readouterr().out
    assert main(["netpol", "explain", *common, "tools/debug", "shop/web:8080/TCP"]) == 1
    assert "isolated by shop/web-from-prod, no rule matches" in capsys.readouterr().out
    assert main(["netpol", "explain", *common, "tools/debug", "shop/web:81/TCP"]) == 2
    assert "has no port '81/TCP'" in capsys.readouterr().err


BAD_WORKLOADS = {
    "malformed-yaml": ("- namespace: a\n  name: [unclosed\n", "malformed YAML"),
    "not-a-list": ("namespace: a\nname: b\n", "expected a non-empty list of workloads"),
    "unknown-field": ("- {namespace: a, name: b, replicas: 2}\n", "unknown field(s) replicas"),
    "bad-protocol": ("- {namespace: a, name: b, ports: [{port: 80, protocol: HTTP}]}\n", "unknown protocol 'HTTP'"),
    "port-out-of-range": ("- {namespace: a, name: b, ports: [{port: 70000}]}\n", "port must be a number 1-65535"),
    "numeric-label": ("- {namespace: a, name: b, labels: {tier: 1}}\n", "labels must map strings to strings"),
    "missing-name": ("- {namespace: a}\n", "namespace and name are required"),
    "duplicate": ("- {namespace: a, name: b}\n- {namespace: a, name: b}\n", "listed twice"),
    "bad-ip": ("- {namespace: a, name: b, ip: 10.0.0.300}\n", "does not appear to be an IPv4 or IPv6 address"),
}


@pytest.mark.parametrize("case", sorted(BAD_WORKLOADS))
def test_bad_workloads_one_line_exit_2(files: dict[str, Path], capsys: pytest.CaptureFixture[str], case: str) -> None:
    text, message = BAD_WORKLOADS[case]
    files["workloads"].write_text(text)
    assert main(_args(files)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("platform-verify: error: "), err
    assert str(files["workloads"]) in err and message in err


BAD_POLICIES = {
    "bad-protocol": ("ports: [{port: 80, protocol: ICMP}]", "unknown protocol 'ICMP'"),
    "unknown-rule-field": ("sources: [{podSelector: {}}]", "unknown field(s) sources"),
    "empty-peer": ("from: [{}]", "a peer needs podSelector, namespaceSelector or ipBlock"),
    "bad-operator": (
        "from: [{podSelector: {matchExpressions: [{key: a, operator: Equals, values: [b]}]}}]",
        "unknown matchExpressions operator 'Equals'",
    ),
    "end-port-with-name": ("ports: [{port: http, endPort: 90}]", "endPort needs a numeric port"),
    "except-outside-cidr": ("from: [{ipBlock: {cidr: 10.0.0.0/24, except: [10.1.0.0/24]}}]", "is not inside cidr"),
}


@pytest.mark.parametrize("case", sorted(BAD_POLICIES))
def test_bad_policy_one_line_exit_2(files: dict[str, Path], capsys: pytest.CaptureFixture[str], case: str) -> None:
    rule, message = BAD_POLICIES[case]
    (files["manifests"] / "bad.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: shop}\n"
        f"spec:\n  podSelector: {{}}\n  ingress:\n    - {rule}\n"
    )
    assert main(_args(files)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.yaml: NetworkPolicy shop/bad" in err and message in err, err


def test_malformed_manifest_and_missing_files(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    (files["manifests"] / "broken.yaml").write_text("kind: [\n")
    assert main(_args(files)) == 2
    assert "broken.yaml: malformed YAML" in capsys.readouterr().err
    missing = files["tmp"] / "nope.yaml"
    assert main(["netpol", "matrix", "--manifests", str(files["manifests"]), "--workloads", str(missing)]) == 2
    assert f"{missing}: no such file" in capsys.readouterr().err
    assert main(["netpol", "matrix", "--manifests", str(missing), "--workloads", str(files["workloads"])]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from verification.cli import entrypoint; sys.argv[0] = 'platform-verify'; entrypoint()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=False
    )


def test_real_process_contract(files: dict[str, Path]) -> None:
    proc = _cli(*_args(files, "--json"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == EXPECTED_JSON
    files["workloads"].write_text("- {namespace: a, name: b, ports: [{port: 80, protocol: tcp}]}\n")
    proc = _cli(*_args(files, "--json"))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("platform-verify: error: ") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr and "unknown protocol 'tcp'" in proc.stderr


def test_check_against_an_intent(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    intent = files["tmp"] / "reachability.yaml"
    # Hand-derived from EXPECTED_JSON: everything allowed there, except debug -> db forgotten here.
    intent.write_text(
        "allow:\n  - {from: 'shop/*', to: shop/web, port: http}\n  - {from: 'shop/*', to: shop/db, port: 5432}\n"
    )
    common = ["--manifests", str(files["manifests"]), "--workloads", str(files["workloads"]), "--intent", str(intent)]
    assert main(["netpol", "check", *common]) == 1
    out = capsys.readouterr().out
    assert "reachability.yaml: 1 of 9 cells differ" in out
    assert "\nport 5432/TCP  (" in out and "port 8080/TCP" not in out
    assert "tools/debug -> shop/db: expected denied, observed allowed" in out
    assert "tools/debug -> shop/db:5432/TCP allowed: egress allowed (no policy isolates it)" in out
    intent.write_text(intent.read_text() + "  - {from: tools/debug, to: shop/db, port: '*'}\n")
    assert main(["netpol", "check", *common]) == 0
    assert "reachability.yaml: 0 of 9 cells differ" in capsys.readouterr().out


def test_check_with_boundaries(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    intent = files["tmp"] / "reachability.yaml"
    # Exact for the listed workloads (EXPECTED_JSON)...
    intent.write_text(
        "allow:\n  - {from: 'shop/*', to: shop/web, port: http}\n  - {from: '*', to: shop/db, port: '*'}\n"
    )
    common = ["--manifests", str(files["manifests"]), "--workloads", str(files["workloads"]), "--intent", str(intent)]
    assert main(["netpol", "check", *common]) == 0
    capsys.readouterr()
    # ... but shop has no default deny: any other pod there is open to every pod, which the
    # intent does not say. The label-less boundary pod of shop shows it, in both views.
    assert main(["netpol", "check", "--boundaries", *common]) == 1
    out = capsys.readouterr().out
    assert "tools/debug -> shop/~no-labels-" in out
    assert ":8080/TCP allowed: egress allowed (no policy isolates it); ingress allowed (no policy isolates it)" in out
    assert "ingress alone allows tools/debug -> shop/~no-labels-" in out
