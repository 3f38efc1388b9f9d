"""Check `hostPathVolumes` (baseline), from v1.0; replaced at restricted by restrictedVolumes.

No volume may set hostPath.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_hostPathVolumes.go
"""

from verification.models.podsecurity.check import Check, VersionedCheck, v
from verification.models.podsecurity.result import ALLOWED, CheckResult, Pod, forbidden, join_quote, pluralize

ID = "hostPathVolumes"


def check_1_0(pod: Pod) -> CheckResult:
    bad = [str(vol.get("name", "")) for vol in pod.spec.get("volumes") or [] if vol.get("hostPath") is not None]
    if bad:
        return forbidden("hostPath volumes", f"{pluralize('volume', 'volumes', len(bad))} {join_quote(bad)}")
    return ALLOWED


CHECK = Check(ID, "baseline", (VersionedCheck(v(0), check_1_0),))
