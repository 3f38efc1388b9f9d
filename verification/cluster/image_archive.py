"""Built images as `docker save` archives in the cache, for runners whose Docker starts empty.

A fresh CI runner (the nightly GitLab job starts its own engine in a new container) has none of
the images built last night, but its GitLab `cache:` restores the cache directory. Every built
image is then saved there as `<cache>/images/<ref>@<key>.tar`, keyed like the image's label (the
digest of its inputs), and an image whose label does not match is first looked for there:
`docker load` of an archive with the same key replaces the build.

Saving costs disk and time that a laptop, whose Docker keeps its images, does not need: archives
are written only when PLATFORM_VERIFY_IMAGE_ARCHIVE=1 (the nightly job sets it); loading is
always tried, an archive present is always the cheaper way.
"""

import os
import re
from pathlib import Path

from verification.cluster import docker
from verification.cluster.progress import say, step
from verification.paths import cache_dir
from verification.run import run

ENV = "PLATFORM_VERIFY_IMAGE_ARCHIVE"


def archive_dir() -> Path:
    return cache_dir() / "images"


def _stem(ref: str) -> str:
    """A file name for an image reference (`/` and `:` are not portable in names)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", ref)


def archive_path(ref: str, key: str, where: Path | None = None) -> Path:
    return (where or archive_dir()) / f"{_stem(ref)}@{key[:32]}.tar"


def enabled() -> bool:
    return os.environ.get(ENV, "") == "1"


def stale_archives(ref: str, key: str, where: Path) -> list[Path]:
    """Archives of `ref` under other keys: superseded builds, removed when a new one is kept."""
    keep = archive_path(ref, key, where).name
    prefix = f"{_stem(ref)}@"
    return sorted(p for p in where.glob(f"{prefix}*.tar") if p.name != keep)


def _matches(ref: str, label: str | None, key: str) -> bool:
    if label is None:  # an imported image without labels (the Debian base): its tag is its key
        return run(["docker", "image", "inspect", ref], check=False, timeout=60).returncode == 0
    return docker.image_label(ref, label) == key


def current(ref: str, label: str | None, key: str) -> bool:
    """True when the local image `ref` carries `label` = `key`, loading a cached archive if needed."""
    if _matches(ref, label, key):
        return True
    archive = archive_path(ref, key)
    if not archive.is_file():
        return False
    with step(f"docker load {archive.name} ({archive.stat().st_size / 1e6:.0f} MB)"):
        loaded = run(["docker", "load", "-i", str(archive)], check=False, timeout=1800)
    if loaded.returncode != 0 or not _matches(ref, label, key):
        # A truncated or foreign archive: build instead, and let the next save replace it.
        say(f"!!! {archive}: did not load {ref} with {label}={key[:12]}; building")
        archive.unlink(missing_ok=True)
        return False
    return True


def keep(ref: str, key: str) -> None:
    """Save the just-built `ref` (when enabled), atomically, and drop its superseded archives."""
    if not enabled():
        return
    where = archive_dir()
    where.mkdir(parents=True, exist_ok=True)
    target = archive_path(ref, key, where)
    partial = target.with_suffix(".partial")
    with step(f"docker save {ref} -> {target}"):
        run(["docker", "save", "-o", str(partial), ref], timeout=1800)
        partial.replace(target)
    for old in stale_archives(ref, key, where):
        old.unlink(missing_ok=True)
