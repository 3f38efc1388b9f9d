"""The YAML loader: documents, lists, directories, and one-line errors naming the file."""

import pytest

from verification.errors import UserError
from verification.yamlio import load_file, load_manifests, source_of, strip_source

NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {}\n"


def test_multi_document_and_list_and_directory(tmp_path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.yaml").write_text(NS.format("a") + "---\n" + NS.format("b") + "---\n")
    (tmp_path / "sub" / "c.yml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: c}\n"
    )
    (tmp_path / "notes.txt").write_text("ignored")
    names = [o["metadata"]["name"] for o in load_manifests([tmp_path])]
    assert names == ["a", "b", "c"]


def test_source_annotation_round_trip(tmp_path) -> None:
    path = tmp_path / "ns.yaml"
    path.write_text(NS.format("x"))
    [obj] = load_manifests([path])
    assert source_of(obj) == str(path)
    assert "annotations" not in strip_source(obj)["metadata"]


def test_malformed_yaml_names_file_and_line(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("kind: Namespace\nmetadata: [unclosed\n")
    with pytest.raises(UserError, match=r"bad\.yaml: malformed YAML: line \d+"):
        load_manifests([path])


def test_object_without_kind_is_refused(tmp_path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("metadata: {name: a}\n")
    with pytest.raises(UserError, match="without apiVersion/kind"):
        load_manifests([path])


def test_missing_path_is_one_clear_error(tmp_path) -> None:
    with pytest.raises(UserError, match="no such file or directory"):
        load_manifests([tmp_path / "nope"])
    with pytest.raises(UserError, match="no such file"):
        load_file(tmp_path / "nope.yaml")
