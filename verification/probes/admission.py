"""Admission on a live cluster: server-side dry runs as an impersonated identity.

ValidatingAdmissionPolicies run on dry-run requests (nothing is stored), so every vector of the
effective-permission catalog can be tried without leaving a pod behind. Requests go through the
kubernetes client (one HTTP request each, no kubectl process) with the Impersonate-User header
only: for a service account the API server then adds system:serviceaccounts and
system:serviceaccounts:NS itself, exactly as for the real token.
"""

import json
from dataclasses import dataclass
from typing import Any

from kubernetes import config
from kubernetes.client import ApiException

from verification.models.rbac.effective import POD_PRODUCERS
from verification.yamlio import strip_source

VAP_DENIAL = "ValidatingAdmissionPolicy '"


@dataclass(frozen=True)
class Outcome:
    admitted: bool
    status: int  # HTTP status (201/200 admitted; 403/422 refused)
    message: str

    @property
    def by_policy(self) -> bool:
        return VAP_DENIAL in self.message

    def describe(self) -> str:
        return "admitted" if self.admitted else f"refused ({self.status}): {self.message}"


def resource_path(obj: dict[str, Any], *, named: bool = False) -> str:
    kind = obj["kind"]
    row = next((r for r in POD_PRODUCERS if r[3] == kind), None)
    if row is None:
        raise ValueError(f"{kind} is not a pod-producing kind")
    group, version, resource, _ = row
    base = f"/api/{version}" if not group else f"/apis/{group}/{version}"
    path = f"{base}/namespaces/{obj['metadata']['namespace']}/{resource}"
    return f"{path}/{obj['metadata']['name']}" if named else path


class AdmissionClient:
    def __init__(self, kubeconfig: str) -> None:
        self.api = config.new_client_from_config(config_file=kubeconfig, persist_config=False)

    def dry_run(self, obj: dict[str, Any], user: str, *, update: bool = False) -> Outcome:
        """CREATE (POST) or UPDATE (PUT) `obj` as `user`, server-side dry run."""
        body = strip_source(obj)
        try:
            status, _ = self._request(
                "PUT" if update else "POST",
                resource_path(body, named=update),
                query=[("dryRun", "All"), ("fieldManager", "effective-permissions-e2e")],
                headers={"Impersonate-User": user, "Content-Type": "application/json"},
                body=body,
            )
            return Outcome(True, status, "")
        except ApiException as exc:
            return Outcome(False, int(exc.status or 0), _message(exc))

    def get(self, obj_path: str) -> dict[str, Any]:
        obj: dict[str, Any] = json.loads(self._request("GET", obj_path)[1])
        return obj

    def _request(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> tuple[int, bytes]:
        """One raw request with the kubeconfig's credentials; a non-2xx answer raises ApiException.

        call_api (kubernetes >= 37) sends what param_serialize built and does not raise on an error status.
        """
        header_params = {"Accept": "application/json", **(headers or {})}
        method, url, header_params, body, post_params = self.api.param_serialize(
            method, path, query_params=query, header_params=header_params, body=body, auth_settings=["BearerToken"]
        )
        response = self.api.call_api(method, url, header_params, body, post_params, _request_timeout=30)
        response.read()
        if not 200 <= response.status < 300:
            raise ApiException(status=response.status, reason=response.reason, http_resp=response)
        return int(response.status), response.data


def _message(exc: ApiException) -> str:
    try:
        return " ".join(str(json.loads(exc.body or "").get("message", "")).split())
    except (TypeError, ValueError):
        return " ".join(str(exc.body or exc.reason).split())
