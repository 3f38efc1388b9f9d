"""A real Debian base image without a registry: debootstrap a root filesystem, `docker import` it.

The tag is derived from every input (suite, variant, mirror, this recipe's revision), so an
existing tag means the image is current; nothing is rebuilt unless forced.
"""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from verification.cluster import docker, image_archive
from verification.cluster.progress import step
from verification.errors import UserError
from verification.run import run
from verification.tools import apt_install

SUITE = "bookworm"
VARIANT = "minbase"
MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
# Bump when the recipe below changes in a way that changes the image.
RECIPE_REVISION = "1"
REPOSITORY = "platform-verify/debian"


def base_tag(suite: str = SUITE, variant: str = VARIANT, mirror: str = MIRROR) -> str:
    key = hashlib.sha256(f"{suite}\0{variant}\0{mirror}\0{RECIPE_REVISION}".encode()).hexdigest()[:10]
    return f"{REPOSITORY}:{suite}-{variant}-{key}"


def sources_list(suite: str = SUITE) -> str:
    """Apt sources inside the image: plain http, which containers here can reach."""
    return (
        f"deb {MIRROR} {suite} main\ndeb {MIRROR} {suite}-updates main\ndeb {SECURITY_MIRROR} {suite}-security main\n"
    )


def ensure_base_image(rebuild: bool = False) -> str:
    """The tag of the local Debian base image, building it on first use (~30 s)."""
    docker.ensure_engine()
    tag = base_tag()
    if not rebuild and image_archive.current(tag, None, tag):
        return tag
    if os.geteuid() != 0:
        raise UserError(f"building the Debian base image {tag} needs root (debootstrap)")
    if shutil.which("debootstrap") is None:
        with step("install debootstrap"):
            apt_install("debootstrap")
    with tempfile.TemporaryDirectory(prefix="debian-base-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        with step(f"debootstrap --variant={VARIANT} {SUITE}"):
            run(["debootstrap", f"--variant={VARIANT}", SUITE, rootfs, MIRROR], timeout=1800)
        (rootfs / "etc/apt/sources.list").write_text(sources_list())
        # Keep images small: no apt caches or lists baked in (every build runs apt-get update).
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (rootfs / leftover).glob("*"):
                if path.is_file():
                    path.unlink()
        with step(f"docker import {tag}"):
            run(["tar", "-C", rootfs, "-c", "-f", Path(tmp) / "rootfs.tar", "."], timeout=600)
            run(
                ["docker", "import", "--change", 'CMD ["/bin/bash"]', Path(tmp) / "rootfs.tar", tag],
                timeout=600,
            )
    image_archive.keep(tag, tag)
    return tag
