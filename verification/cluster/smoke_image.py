"""The smoke test's image (platform/kind/smoke): a static Go program serving HTTP and probing."""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from verification.cluster import docker, image_archive
from verification.cluster.image_cache import NODE_LABEL
from verification.cluster.progress import step
from verification.paths import PLATFORM, cache_dir
from verification.run import run

SOURCE = PLATFORM / "kind" / "smoke"
REPOSITORY = "platform-verify/smoke"


def source_key() -> str:
    digest = hashlib.sha256()
    for path in sorted(SOURCE.glob("*")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(run(["go", "env", "GOVERSION"], timeout=60).stdout.encode())
    return digest.hexdigest()[:12]


def ensure_smoke_image(rebuild: bool = False) -> str:
    key = source_key()
    tag = f"{REPOSITORY}:{key}"
    if not rebuild and image_archive.current(tag, NODE_LABEL, key):
        return tag
    binary = cache_dir() / "smoke" / key / "smoke"
    if rebuild or not binary.exists():
        binary.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOFLAGS": "-buildvcs=false -trimpath"}
        with step("go build smoke"):
            run(["go", "build", "-ldflags", "-s -w", "-o", binary, "."], cwd=SOURCE, env=env, timeout=600)
    with step(f"build image {tag}"), tempfile.TemporaryDirectory(prefix="smoke-") as tmp:
        shutil.copy2(binary, Path(tmp) / "smoke")
        docker.build_image(Path(tmp), tag, dockerfile=SOURCE / "Dockerfile", labels={NODE_LABEL: key})
    image_archive.keep(tag, key)
    return tag
