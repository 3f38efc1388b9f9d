"""The blue-green switch orchestrator: one implementation for the CLI, GitLab deploy jobs and e2e.

- model.py: pure decisions (state in, action or refusal out), unit-tested without a cluster
- release.py: the source of truth, the Helm release values (HELM_DRIVER=configmap)
- gitops.py: the source of truth where ArgoCD syncs the app: its values file in git
- kube.py: observations (Deployments, pods, Service endpoints, HTTP through port-forward)
- orchestrator.py: deploy / switch / rollback / status flows with progress and a summary
"""
