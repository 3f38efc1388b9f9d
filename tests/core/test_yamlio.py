"""The YAML loader: documents, lists, directories, and one-line errors naming the file."""

import re

import pytest

from verification.errors import UserError
from verification.paths import MANIFESTS
from verification.yamlio import MAX_DEPTH, load_file, load_manifests, source_of, strip_source

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


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"kind: Namespace\n\xff\xfe", r"bad\.yaml: not UTF-8 text at byte 16 \(a binary file\? save it as UTF-8\)$"),
        (
            b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: {}\n  name: b\n",
            r"bad\.yaml: line 6: duplicate key 'name' \(first on line 4\); remove one$",
        ),
        (
            b"apiVersion: v1\nkind: Namespace\nmetadata: {name: a",
            r"bad\.yaml: malformed YAML: line \d+, column \d+: did not find expected ',' or '}'$",
        ),
        (
            b'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "a',
            r"bad\.yaml: malformed YAML: line 4, column 11: found unexpected end of stream$",
        ),
        (b"a: 1\x00", r"bad\.yaml: malformed YAML: character 5: unacceptable character #x0000"),
        (b"x:\n  " + b"[" * 101 + b"]" * 101, r"bad\.yaml: line 2: nesting deeper than 100 levels; flatten"),
        (b"[" * 100_000 + b"]" * 100_000, r"bad\.yaml: line 1: nesting deeper than 100 levels"),
        (
            b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + b"".join(b"%c: &%c [%s]\n" % (c, c, b", ".join([b"*" + bytes([c - 1])] * 10)) for c in b"bcdef"),
            r"bad\.yaml: line 5: aliases expand to more than 100,000 nodes from \d+ written \(an alias bomb\?\)",
        ),
        (b"", r"bad\.yaml: no objects \(give a file or directory of Kubernetes manifests\)$"),
        (b"apiVersion: v1\nkind: Namespace\nmetadata: x\n", r"bad\.yaml: Namespace: metadata must be a mapping"),
        (b"apiVersion: v1\nkind: List\nitems: x\n", r"bad\.yaml: List\.items must be a list, got str$"),
    ],
    ids=[
        "binary",
        "duplicate",
        "truncated-flow",
        "truncated-quote",
        "nul",
        "deep",
        "deep-100k",
        "bomb",
        "empty",
        "metadata",
        "list-items",
    ],
)
def test_each_bad_input_is_one_line_naming_the_file(tmp_path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(data)
    with pytest.raises(UserError) as caught:
        load_manifests([path])
    assert re.search(message, str(caught.value)), str(caught.value)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_empty_directory_is_an_error_not_an_empty_answer(tmp_path) -> None:
    with pytest.raises(UserError, match=r": no \.yaml/\.yml files \("):
        load_manifests([tmp_path])


def test_duplicate_key_in_a_single_document_file(tmp_path) -> None:
    path = tmp_path / "workloads.yaml"
    path.write_text("- namespace: a\n  name: x\n  namespace: b\n")
    with pytest.raises(UserError, match=r"workloads\.yaml: line 3: duplicate key 'namespace' \(first on line 1\)"):
        load_file(path)


def test_merge_keys_and_few_aliases_stay_allowed(tmp_path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("base: &base {a: 1, b: 2}\nover:\n  <<: *base\n  b: 3\nlist: [*base, *base]\n")
    assert load_file(path) == {"base": {"a": 1, "b": 2}, "over": {"a": 1, "b": 3}, "list": [{"a": 1, "b": 2}] * 2}


def test_nesting_at_the_limit_loads(tmp_path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    value = load_file(path)
    for _ in range(MAX_DEPTH - 1):
        value = value[0]
    assert value == []


def test_same_scalar_with_different_types_is_not_a_duplicate(tmp_path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("1: int\n'1': str\n")
    assert load_file(path) == {1: "int", "1": "str"}


def test_the_platform_files_pass_the_cheap_bound_or_the_scan(tmp_path) -> None:
    # every manifest the suite ships loads: the limits refuse nothing real
    assert len(load_manifests([MANIFESTS])) > 50
