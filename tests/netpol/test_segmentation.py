"""The segmentation checks read a namespace's own file (for its Pod Security exception comment)
through the loader's reader, as every file is read."""

from pathlib import Path

import pytest

from verification.errors import UserError
from verification.models.netpol import segmentation
from verification.yamlio import load_manifests


def _namespace(path: Path, enforce: str, comment: str = "") -> Path:
    labels = {
        **segmentation.NAMESPACE_LABELS["monitoring"],
        **{f"pod-security.kubernetes.io/{m}": enforce for m in segmentation.PSA_MODES},
        **{f"pod-security.kubernetes.io/{m}-version": "v1.33" for m in segmentation.PSA_MODES},
    }
    lines = "".join(f"    {k}: {v}\n" for k, v in labels.items())
    path.write_text(f"{comment}apiVersion: v1\nkind: Namespace\nmetadata:\n  name: monitoring\n  labels:\n{lines}")
    return path


def _monitoring_problems(path: Path) -> list[str]:
    return [v for v in segmentation.namespace_violations(load_manifests([path])) if "namespace monitoring" in v]


def test_an_exception_comment_in_the_namespaces_file_is_read(tmp_path: Path) -> None:
    plain = _monitoring_problems(_namespace(tmp_path / "a.yaml", "privileged"))
    assert any("without a `# Pod Security EXCEPTION:` comment" in v for v in plain)
    explained = _namespace(tmp_path / "b.yaml", "privileged", "# Pod Security EXCEPTION: node exporter\n")
    assert _monitoring_problems(explained) == []


def test_a_namespaces_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    path = _namespace(tmp_path / "ns.yaml", "privileged", "# caf\u00e9\n")
    objects = load_manifests([path])
    path.write_bytes(path.read_bytes().replace("caf\u00e9".encode(), b"caf\xe9"))  # Latin-1 after loading
    with pytest.raises(UserError) as refused:
        segmentation.namespace_violations(objects)
    assert str(refused.value) == f"{path}: not UTF-8 text at byte 5 (a binary file? save it as UTF-8)"
