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


def _missing() -> dict[str, str]:
    """The pinned images without an offline recipe: name -> reference."""
    images = versions().get("images", {})
    return {name: images[name] for name in stack_images.unbuilt()}


def _runs(path: Path, image: str) -> bool:
    """The manifest file runs the image (text search: a reference is one exact string)."""
    return f"image: {image}" in path.read_text()


def summary() -> list[str]:
    lines = []
    for name, image in _missing().items():
        users = [str(p.relative_to(REPO_ROOT)) for p in yaml_files(MANIFESTS) if _runs(p, image)]
        lines.append(f"  {name} ({image}): {', '.join(users) or 'no manifest runs it'}")
    return [f"NOT PROVEN LIVE: {REASON}; only conformance checks their manifests:", *lines] if lines else []


def runnable(folder: Path) -> list[Path]:
    """The manifest files of `folder` the e2e stack can run: those using no image listed above."""
    missing = _missing().values()
    return [p for p in yaml_files(folder) if not any(_runs(p, image) for image in missing)]
