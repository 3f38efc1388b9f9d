"""AdmissionClient's raw request through the kubernetes client, with the HTTP layer replaced."""

import json
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes.client import ApiClient, Configuration
from kubernetes.client.rest import RESTResponse

from verification.probes import admission
from verification.probes.admission import AdmissionClient

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "team"}, "spec": {}}


def _client(monkeypatch: pytest.MonkeyPatch, status: int, data: bytes, sent: list[dict[str, Any]]) -> AdmissionClient:
    configuration = Configuration(host="https://api.test", api_key={"authorization": "token"})
    configuration.api_key_prefix = {"authorization": "Bearer"}
    monkeypatch.setattr(admission.config, "new_client_from_config", lambda **_: ApiClient(configuration))
    client = AdmissionClient("unused-kubeconfig")

    def request(method: str, url: str, **kwargs: Any) -> RESTResponse:
        sent.append({"method": method, "url": url, **kwargs})
        return RESTResponse(SimpleNamespace(status=status, reason="reason", data=data, headers={}))

    monkeypatch.setattr(client.api.rest_client, "request", request)
    return client


def test_an_admitted_dry_run_is_sent_as_the_impersonated_user(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []
    outcome = _client(monkeypatch, 201, b"{}", sent).dry_run(POD, "system:serviceaccount:team:ci")
    assert outcome == admission.Outcome(True, 201, "")
    (request,) = sent
    assert request["method"] == "POST"
    assert request["url"] == (
        "https://api.test/api/v1/namespaces/team/pods?dryRun=All&fieldManager=effective-permissions-e2e"
    )
    assert request["headers"]["Impersonate-User"] == "system:serviceaccount:team:ci"
    assert request["headers"]["authorization"] == "Bearer token"
    assert request["body"] == POD


def test_a_refusal_is_an_outcome_with_the_api_servers_message(monkeypatch: pytest.MonkeyPatch) -> None:
    message = json.dumps({"message": "ValidatingAdmissionPolicy 'workload-identity'   denied"}).encode()
    outcome = _client(monkeypatch, 403, message, []).dry_run(POD, "u", update=True)
    assert outcome == admission.Outcome(False, 403, "ValidatingAdmissionPolicy 'workload-identity' denied")
    assert outcome.by_policy


def test_get_raises_on_an_error_status(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(monkeypatch, 404, b'{"message": "not found"}', [])
    with pytest.raises(admission.ApiException) as raised:
        client.get("/api/v1/namespaces/team/pods/p")
    assert raised.value.status == 404
