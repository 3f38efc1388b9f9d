"""Image archives in the cache: names keyed like the image label, superseded ones found, the cache root movable."""

from pathlib import Path

import pytest

from verification import paths
from verification.cluster import image_archive


def test_archive_name_is_the_reference_and_key_in_portable_characters(tmp_path: Path) -> None:
    path = image_archive.archive_path("registry.k8s.io/kube-apiserver:v1.33.6", "ab" * 32, tmp_path)
    assert path == tmp_path / f"registry.k8s.io_kube-apiserver_v1.33.6@{'ab' * 16}.tar"


def test_only_other_keys_of_the_same_reference_are_stale(tmp_path: Path) -> None:
    ref, other = "platform-verify/kind-node:v1.33.6-1", "platform-verify/kind-node:v1.33.6-10"
    keep = image_archive.archive_path(ref, "new", tmp_path)
    old = image_archive.archive_path(ref, "old", tmp_path)
    foreign = image_archive.archive_path(other, "old", tmp_path)
    for path in (keep, old, foreign):
        path.write_bytes(b"")
    assert image_archive.stale_archives(ref, "new", tmp_path) == [old]


def test_saving_is_opt_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PLATFORM_VERIFY_CACHE", str(tmp_path))
    monkeypatch.delenv(image_archive.ENV, raising=False)
    image_archive.keep("any:tag", "key")  # disabled: no docker call, no file
    assert not (tmp_path / "images").exists()
    monkeypatch.setenv(image_archive.ENV, "1")
    assert image_archive.enabled()


def test_cache_root_follows_platform_verify_cache_then_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PLATFORM_VERIFY_CACHE", raising=False)
    assert paths.cache_dir() == tmp_path / "xdg" / "platform-verify"
    monkeypatch.setenv("PLATFORM_VERIFY_CACHE", str(tmp_path / "project" / ".cache" / "pv"))
    assert paths.cache_dir() == tmp_path / "project" / ".cache" / "pv"
    assert image_archive.archive_dir() == tmp_path / "project" / ".cache" / "pv" / "images"


def test_the_ci_model_checks_the_variable_that_enables_saving() -> None:
    from verification.models.delivery import gitlab_ci

    assert gitlab_ci.IMAGE_ARCHIVE_VARIABLE == image_archive.ENV
