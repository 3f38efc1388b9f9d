"""Where the running stack's images came from, as each node's container runtime reports it.

With `--image-source registry` the images are built here, pushed to the cluster's local registry
(crane, on the kind network's gateway) and pulled by every node's containerd through its mirror
configuration. A node that got an image another way (side-loaded by `kind load`, left over from a
`build` run) would run the same tag with another image ID: the pod's `imageID` is what proves the
pull path, not the tag in the spec nor the exit code of the push.
"""

import json

import pytest

from verification.cluster import registry
from verification.e2e.stack import APP_NAMESPACE, APPS, MONITORING, Stack
from verification.models.delivery import chart


def test_registry_source_every_stack_container_runs_a_digest_the_local_registry_served(stack: Stack) -> None:
    cluster = stack.cluster
    if cluster.image_source != "registry":
        pytest.skip(f"image source is {cluster.image_source!r}: this proves the pull path; run --image-source registry")
    digests = registry.served(cluster.name)
    pods = [
        pod
        for namespace in (APP_NAMESPACE, MONITORING)
        for pod in json.loads(stack.kubectl("-n", namespace, "get", "pods", "-o", "json").stdout)["items"]
    ]
    ours, other = registry.pulled(pods, digests)
    print(f"\n{len(ours)} container(s) run a digest the local registry served:\n  " + "\n  ".join(ours))
    assert not other, "containers run a pushed image by a digest the registry did not serve:\n" + "\n".join(other)
    served = {registry.split(ref)[1] for ref in digests}
    specs = [c["image"] for pod in pods for c in pod["spec"]["containers"] + pod["spec"].get("initContainers", [])]
    used = {name for name in served if any(f"/{name}:" in image or f"/{name}@" in image for image in specs)}
    running = {name for name in used if any(f"/{name}:" in line or f"/{name}@" in line for line in ours)}
    assert used, f"no pod of {APP_NAMESPACE} or {MONITORING} uses an image pushed to the local registry"
    assert running == used, f"pushed images the pods use but no container runs from the registry: {used - running}"
    # The apps' releases pin each colour to the digest served for its tag (bluegreen deploy --digest):
    # their Deployments' pods, not the NetworkPolicy probe pods that carry the apps' labels.
    apps = [
        pod
        for pod in pods
        if (pod["metadata"].get("labels") or {}).get("app.kubernetes.io/name") in APPS
        and any(owner["kind"] == "ReplicaSet" for owner in pod["metadata"].get("ownerReferences") or [])
    ]
    unpinned = [
        f"{pod['metadata']['name']}: {c['image']}"
        for pod in apps
        for c in pod["spec"]["containers"]
        if chart.split_image(c["image"])[2] not in digests.values()
    ]
    assert apps and not unpinned, "app pods not pinned to a digest the registry served:\n" + "\n".join(unpinned)
