"""Build the runc wrapper (platform/kind/runc-wrapper): a static Go binary, cached by its inputs.

The same binary serves the host's Docker engine and the kind node's containerd; only the
path of the real runc it calls differs (stamped at link time).
"""

import hashlib
import os
import shutil
from pathlib import Path

from verification.cluster.image_cache import folder_digest
from verification.cluster.progress import step
from verification.errors import UserError
from verification.paths import PLATFORM, cache_dir
from verification.run import run

SOURCE = PLATFORM / "kind" / "runc-wrapper"
# Where the node image keeps the real runc; the wrapper takes runc's usual place.
NODE_REAL_RUNC = "/usr/local/sbin/runc.real"


def cache_key(real_runc: str) -> str:
    return hashlib.sha256(f"{folder_digest(SOURCE)}\0{real_runc}".encode()).hexdigest()[:16]


def build(real_runc: str) -> Path:
    """Path of a wrapper binary that calls `real_runc`; built once per source and target."""
    out = cache_dir() / "runc-wrapper" / cache_key(real_runc) / "runc-wrapper"
    if out.exists():
        return out
    if not shutil.which("go"):
        raise UserError("cannot build the runc wrapper: the Go toolchain is missing (apt-get install golang)")
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-trimpath"}
    with step(f"build runc wrapper (real runc: {real_runc})"):
        cmd = ["go", "build", "-ldflags", f"-s -w -X main.realRunc={real_runc}", "-o", str(out), "."]
        run(cmd, cwd=SOURCE, env=env, timeout=600)
    return out
