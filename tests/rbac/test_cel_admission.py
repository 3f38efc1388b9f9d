"""Hand-checked cases of the ValidatingAdmissionPolicy model (verification/models/admission/cel.py):
matching, matchConditions, failurePolicy, validationActions, variables, messages, unsupported CEL."""

from typing import Any

import pytest

from verification.models.admission.cel import AdmissionRequest, PolicySet, UnsupportedPolicy
from verification.yamlio import SOURCE_ANNOTATION

RULE = {"apiGroups": ["apps"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"], "resources": ["deployments"]}


def _policy(validations: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "p"},
        "spec": {"matchConstraints": {"resourceRules": [RULE]}, "validations": validations, **spec},
    }


def _binding(actions: tuple[str, ...] = ("Deny",), **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "b"},
        "spec": {"policyName": "p", "validationActions": list(actions), **spec},
    }


def _request(spec: dict[str, Any], user: str = "u", namespace: str = "test", operation: str = "CREATE") -> Any:
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": namespace}}
    obj["spec"] = spec
    return AdmissionRequest(operation, "apps", "v1", "deployments", "Deployment", namespace, "d", user, (), obj)


def _decide(objects: list[dict[str, Any]], request: AdmissionRequest) -> Any:
    return PolicySet.from_objects(objects).decide(request)


def test_false_validation_denies_with_the_api_servers_message() -> None:
    decision = _decide([_policy([{"expression": "object.spec.replicas < 3", "message": "too many"}]), _binding()],
                       _request({"replicas": 5}))  # fmt: skip
    assert not decision.allowed
    assert decision.denials[0].api_message() == (
        "ValidatingAdmissionPolicy 'p' with binding 'b' denied request: too many"
    )
    assert _decide(
        [_policy([{"expression": "object.spec.replicas < 3"}]), _binding()], _request({"replicas": 1})
    ).allowed


def test_missing_field_is_an_error_and_fail_denies_ignore_admits() -> None:
    validation = [{"expression": "object.spec.replicas < 3", "message": "m"}]
    denied = _decide([_policy(validation), _binding()], _request({}))
    assert not denied.allowed and "resulted in error" in denied.denials[0].message
    assert _decide([_policy(validation, failurePolicy="Ignore"), _binding()], _request({})).allowed


def test_has_of_a_missing_parent_is_an_error_as_in_cel_go() -> None:
    validation = [{"expression": "!has(object.spec.template.spec.volumes)"}]
    assert not _decide([_policy(validation), _binding()], _request({})).allowed


def test_warn_and_audit_do_not_deny() -> None:
    validation = [{"expression": "false", "message": "m"}]
    decision = _decide([_policy(validation), _binding(("Warn", "Audit"))], _request({}))
    assert decision.allowed and len(decision.violations) == 1


def test_without_binding_nothing_is_enforced_and_a_binding_to_a_missing_policy_is_ignored() -> None:
    validation = [{"expression": "false"}]
    assert _decide([_policy(validation)], _request({})).allowed
    other = _binding()
    other["spec"]["policyName"] = "missing"
    assert _decide([_policy(validation), other], _request({})).allowed


def test_match_conditions_select_by_user() -> None:
    conditions = [{"name": "deployer", "expression": "request.userInfo.username.endsWith(':ci-deployer')"}]
    objects = [_policy([{"expression": "false"}], matchConditions=conditions), _binding()]
    assert not _decide(objects, _request({}, user="system:serviceaccount:test:ci-deployer")).allowed
    assert _decide(objects, _request({}, user="someone")).allowed


def test_match_condition_error_applies_failure_policy() -> None:
    conditions = [{"name": "broken", "expression": "object.nope == 1"}]
    assert not _decide(
        [_policy([{"expression": "true"}], matchConditions=conditions), _binding()], _request({})
    ).allowed
    ignore = _policy([{"expression": "true"}], matchConditions=conditions, failurePolicy="Ignore")
    assert _decide([ignore, _binding()], _request({})).allowed


def test_binding_namespace_selector() -> None:
    binding = _binding(matchResources={"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "test"}}})
    objects = [_policy([{"expression": "false"}]), binding]
    assert not _decide(objects, _request({}, namespace="test")).allowed
    assert _decide(objects, _request({}, namespace="staging")).allowed


def test_variables_are_lazy_and_message_expression_reads_them() -> None:
    variables = [
        {"name": "broken", "expression": "object.nope"},
        {"name": "n", "expression": "object.spec.replicas"},
        {"name": "twice", "expression": "variables.n * 2"},
    ]
    validation = {"expression": "variables.twice < 4", "messageExpression": "'replicas ' + string(variables.n)"}
    decision = _decide([_policy([validation], variables=variables), _binding()], _request({"replicas": 3}))
    assert [d.message for d in decision.denials] == ["replicas 3"]  # `broken` is never read
    reading = {"expression": "variables.broken == 1", "message": "m"}
    decision = _decide([_policy([reading], variables=variables), _binding()], _request({"replicas": 3}))
    assert "resulted in error" in decision.denials[0].message


def test_message_expression_error_falls_back_to_message() -> None:
    validation = {"expression": "false", "messageExpression": "object.nope", "message": "fallback"}
    assert _decide([_policy([validation]), _binding()], _request({})).denials[0].message == "fallback"


def test_string_literals_are_not_variables_or_calls() -> None:
    validation = {"expression": "'variables.x split(' == 'variables.x split('"}
    assert _decide([_policy([validation]), _binding()], _request({})).allowed


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("object.metadata.name.split('-').size() > 0", "split"),
        ("object.metadata.name.lowerAscii() == 'd'", "lowerAscii"),
        ("authorizer.group('apps').resource('deployments').check('create').allowed()", "check"),
        ("authorizer == null", "authorizer"),
        ("params.max > 1", "params"),
    ],
)
def test_unsupported_cel_is_an_error_never_an_allow(expression: str, words: str) -> None:
    with pytest.raises(UnsupportedPolicy, match=words):
        PolicySet.from_objects([_policy([{"expression": expression}]), _binding()])


def test_param_kind_is_unsupported() -> None:
    policy = _policy([{"expression": "true"}], paramKind={"apiVersion": "v1", "kind": "ConfigMap"})
    with pytest.raises(UnsupportedPolicy, match="paramKind"):
        PolicySet.from_objects([policy, _binding()])


def test_explain_names_why_nothing_denies() -> None:
    policies = PolicySet.from_objects([_policy([{"expression": "true"}]), _binding(("Warn",))])
    reasons = policies.explain(_request({}))
    assert reasons == [
        "<unknown>: ValidatingAdmissionPolicy p: its matchConditions skip u or every validation admits the object"
    ]


def test_policies_never_see_the_loaders_source_annotation_and_the_object_is_not_changed() -> None:
    # The API server has no such annotation: an object read from the repository is judged without
    # it (its other annotations kept, the metadata without annotations when it was the only one).
    only = _request({})
    only.object["metadata"]["annotations"] = {SOURCE_ANNOTATION: "platform/x.yaml"}
    mixed = _request({})
    mixed.object["metadata"]["annotations"] = {SOURCE_ANNOTATION: "platform/x.yaml", "team": "a"}
    absent = [_policy([{"expression": "!has(object.metadata.annotations)"}]), _binding()]
    kept = [_policy([{"expression": "object.metadata.annotations == {'team': 'a'}"}]), _binding()]
    assert _decide(absent, only).allowed and _decide(kept, mixed).allowed
    assert not _decide(absent, mixed).allowed
    assert only.object["metadata"]["annotations"] == {SOURCE_ANNOTATION: "platform/x.yaml"}
