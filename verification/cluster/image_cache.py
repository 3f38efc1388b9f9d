"""Content keys for built images: every image carries the digest of its inputs as a label.

A build is current when the image with the exact reference exists and its label equals the
digest of today's inputs (pinned versions, source file checksums, Dockerfile, base images,
Go toolchain). Pure functions here; Docker is only asked for the label.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from verification.run import run

# The label holding an image's input digest: stack images (stack_images.py) carry LABEL, the kind
# base, component, node and smoke images (node_image.py, smoke_image.py) NODE_LABEL. Two names for
# one concept, kept because renaming either would invalidate every cached image of its family.
LABEL = "io.platform-verify.inputs"
NODE_LABEL = "platform-verify.key"


def file_digests(root: Path, paths: Iterable[Path] | None = None) -> dict[str, str]:
    """sha256 of every file under `root` (or of `paths`), keyed by path relative to `root`."""
    files = sorted(paths) if paths is not None else sorted(p for p in root.rglob("*") if p.is_file())
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def folder_digest(folder: Path, *extra: str) -> str:
    """sha256 of a flat source folder (each file's name and bytes), then of `extra`."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for text in extra:
        digest.update(text.encode())
    return digest.hexdigest()


def cache_key(inputs: Mapping[str, Any]) -> str:
    """Stable digest of a JSON-able mapping: same inputs, same key, whatever the key order."""
    blob = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def ref_tag(ref: str) -> str:
    """The tag of an image reference (`quay.io/a/b:v1.2.3` -> `v1.2.3`); a registry port is not a tag."""
    name = ref.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        raise ValueError(f"image reference {ref!r} has no tag; pin an exact tag in platform/versions.yaml")
    return last.rsplit(":", 1)[1]


def image_size(ref: str) -> int:
    proc = run(["docker", "image", "inspect", "--format", "{{.Size}}", ref], timeout=60)
    return int(proc.stdout.strip())
