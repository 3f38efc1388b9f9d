"""Check `restrictedVolumes` (restricted), from v1.0; overrides hostPathVolumes.

Every volume must use one of the allowed sources below; anything else (hostPath, nfs, ...) or no
known source ("unknown") fails.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_restrictedVolumes.go
"""

from verification.models.podsecurity.check import Check, VersionedCheck, v
from verification.models.podsecurity.checks import host_path_volumes
from verification.models.podsecurity.result import ALLOWED, CheckResult, Pod, forbidden, join_quote, pluralize

ALLOWED_SOURCES = (
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected",
    "secret",
)  # fmt: skip
# Upstream's order when naming the restricted type a volume uses.
RESTRICTED_SOURCES = (
    "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi", "glusterfs", "rbd",
    "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile", "vsphereVolume", "quobyte", "azureDisk",
    "photonPersistentDisk", "portworxVolume", "scaleIO", "storageos",
)  # fmt: skip


def check_1_0(pod: Pod) -> CheckResult:
    restricted = [v for v in pod.spec.get("volumes") or [] if all(v.get(s) is None for s in ALLOWED_SOURCES)]
    bad = [str(v.get("name", "")) for v in restricted]
    kinds = {next((s for s in RESTRICTED_SOURCES if v.get(s) is not None), "unknown") for v in restricted}
    if bad:
        return forbidden(
            "restricted volume types",
            f"{pluralize('volume', 'volumes', len(bad))} {join_quote(bad)} {pluralize('uses', 'use', len(bad))} "
            f"{pluralize('restricted volume type', 'restricted volume types', len(kinds))} {join_quote(sorted(kinds))}",
        )
    return ALLOWED


CHECK = Check("restrictedVolumes", "restricted", (VersionedCheck(v(0), check_1_0, (host_path_volumes.ID,)),))
