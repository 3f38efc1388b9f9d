"""The smoke test's image (platform/kind/smoke): a static Go program serving HTTP and probing."""

import shutil
import tempfile
from pathlib import Path

from verification.cluster import docker, gobuild, image_archive
from verification.cluster.image_cache import NODE_LABEL, folder_digest
from verification.cluster.progress import step
from verification.paths import PLATFORM, cache_dir
from verification.run import run

SOURCE = PLATFORM / "kind" / "smoke"
REPOSITORY = "platform-verify/smoke"


def ensure_smoke_image(rebuild: bool = False) -> str:
    key = folder_digest(SOURCE, run(["go", "env", "GOVERSION"], timeout=60).stdout)[:12]
    tag = f"{REPOSITORY}:{key}"
    if not rebuild and image_archive.current(tag, NODE_LABEL, key):
        return tag
    binary = gobuild.build_static(SOURCE, cache_dir() / "smoke" / key / "smoke", rebuild=rebuild)
    with step(f"build image {tag}"), tempfile.TemporaryDirectory(prefix="smoke-") as tmp:
        shutil.copy2(binary, Path(tmp) / "smoke")
        docker.build_image(Path(tmp), tag, dockerfile=SOURCE / "Dockerfile", labels={NODE_LABEL: key})
    image_archive.keep(tag, key)
    return tag
