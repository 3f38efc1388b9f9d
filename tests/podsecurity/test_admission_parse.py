"""Reading Pod Security admission's answers out of a batched `kubectl create --dry-run=server`."""

from verification.models.podsecurity import check_pod, forbidden_message
from verification.probes.podsecurity_admission import Observed, admission_reasons, compare, flat_fields, parse_dry_run

SPEC = {
    "hostNetwork": True,
    "securityContext": {"runAsNonRoot": False, "sysctls": [{"name": "kernel.msgmax", "value": "1"}]},
    "containers": [{"name": "app0", "image": "x", "securityContext": {"capabilities": {"add": ["NET_RAW"]}}}],
}
STDERR = (
    'Error from server (Forbidden): error when creating "STDIN": pods "psa-001" is forbidden: {message}\n'
    'Error from server (Invalid): error when creating "STDIN": Pod "psa-002" is invalid: '
    'spec.containers[0].securityContext.procMount: Invalid value: "Unmasked": `hostUsers` must be false to use '
    "`Unmasked`\n"
)


def test_outcomes_per_pod() -> None:
    message = forbidden_message(SPEC, "restricted")
    stdout = "pod/psa-000\npod/psa-003 created (server dry run)\n"
    found = parse_dry_run(stdout, STDERR.format(message=message), ["psa-000", "psa-001", "psa-002", "psa-003", "x"])
    assert {name: o.outcome for name, o in found.items()} == {
        "psa-000": "admitted", "psa-001": "forbidden", "psa-002": "invalid", "psa-003": "admitted", "x": "no answer",
    }  # fmt: skip
    assert found["psa-001"].message.endswith(message)


def test_reasons_read_back_equal_the_model_reasons_in_order() -> None:
    message = forbidden_message(SPEC, "restricted")
    expected = [result.reason for _, result in check_pod(SPEC, "restricted")]
    assert expected == [
        "host namespaces", "forbidden sysctls", "allowPrivilegeEscalation != false", "unrestricted capabilities",
        "runAsNonRoot != true", "seccompProfile",
    ]  # fmt: skip
    assert admission_reasons(f'pods "p" is forbidden: {message}') == expected


def test_apparmor_plural_is_one_reason() -> None:
    message = (
        'violates PodSecurity "baseline:latest": forbidden AppArmor profiles (container "a" and annotation must not '
        'set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/a="unconfined""), '
        "privileged (x)"
    )
    assert admission_reasons(message) == ["forbidden AppArmor profile", "privileged"]
    assert admission_reasons("something else") == []


def test_comparison_rows() -> None:
    observed = {"a": Observed("admitted"), "b": Observed("forbidden", f"x: {forbidden_message(SPEC, 'baseline')}")}
    rows = compare("baseline", {"a": SPEC, "b": SPEC}, observed)
    assert [(r.verdict_agrees, r.reasons_agree) for r in rows] == [(False, False), (True, True)]
    row = rows[0].row()
    assert row.subject == "a (baseline)" and row.differs and not rows[1].row().differs
    assert row.cause.startswith("verdicts differ; spec hostNetwork=true securityContext.runAsNonRoot=false")
    assert 'securityContext.sysctls[0].name="kernel.msgmax"' in row.cause
    assert row.expected.startswith('reject: non-default capabilities (container "app0" must not include "NET_RAW" in ')
    assert row.observed == "admitted: -"
    assert (
        flat_fields({"containers": [{"name": "a", "ports": [{"hostPort": 1}]}]}) == "containers[0].ports[0].hostPort=1"
    )
