"""What e2e does not prove live, and why: printed in every e2e run's summary, never silent.

A pinned image without an offline recipe (verification.cluster.stack_images.unbuilt) cannot run on
a cluster built offline, so the components using it are checked by conformance only.
"""

from pathlib import Path

from verification.cluster import stack_images
from verification.paths import MANIFESTS, REPO_ROOT
from verification.versions import versions
from verification.yamlio import yaml_files

REASON = "no offline source for their images (no recipe under platform/images), so the e2e stack does not run them"


def _users(image: str) -> list[str]:
    """Manifest files that run the image (text search: a reference is one exact string)."""
    return [str(p.relative_to(REPO_ROOT)) for p in yaml_files(Path(MANIFESTS)) if f"image: {image}" in p.read_text()]


def not_proven_live() -> list[str]:
    images = versions().get("images", {})
    lines = []
    for name in stack_images.unbuilt():
        users = _users(images[name])
        lines.append(f"{name} ({images[name]}): {', '.join(users) or 'no manifest runs it'}")
    return lines


def summary() -> list[str]:
    found = not_proven_live()
    if not found:
        return []
    return [f"NOT PROVEN LIVE: {REASON}; only conformance checks their manifests:", *(f"  {line}" for line in found)]


def runnable(folder: Path) -> list[Path]:
    """The manifest files of `folder` the e2e stack can run: those using no image listed above."""
    images = versions().get("images", {})
    missing = [images[name] for name in stack_images.unbuilt()]
    return [p for p in yaml_files(folder) if not any(f"image: {image}" in p.read_text() for image in missing)]
