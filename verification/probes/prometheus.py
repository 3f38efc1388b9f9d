"""The cluster's Prometheus through prometheus-api-client, reached via the API server's service proxy.

No port-forward and no extra NodePort: the client's requests session carries the kubeconfig's
credentials (client certificate or bearer token, and the cluster CA), and its base URL is the
proxy path of the `prometheus-operated` Service, so what a test reads is exactly what Prometheus
answers inside the cluster.
"""

from pathlib import Path

import requests
from kubernetes import client, config
from prometheus_api_client import PrometheusConnect

SERVICE = "prometheus-operated:web"


def proxy_session(kubeconfig: Path | str) -> tuple[str, requests.Session]:
    """(API server URL, a session authenticated as the kubeconfig's current user)."""
    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    session = requests.Session()
    session.verify = cfg.ssl_ca_cert if cfg.verify_ssl and cfg.ssl_ca_cert else cfg.verify_ssl
    if cfg.cert_file and cfg.key_file:
        session.cert = (cfg.cert_file, cfg.key_file)
    token = cfg.api_key.get("authorization") or cfg.api_key.get("BearerToken")
    if token:
        session.headers["Authorization"] = token if token.startswith("Bearer ") else f"Bearer {token}"
    return cfg.host.rstrip("/"), session


def connect(kubeconfig: Path | str, namespace: str) -> PrometheusConnect:
    host, session = proxy_session(kubeconfig)
    url = f"{host}/api/v1/namespaces/{namespace}/services/{SERVICE}/proxy"
    return PrometheusConnect(url=url, session=session, timeout=30)
