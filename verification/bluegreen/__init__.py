"""The blue-green switch orchestrator: one implementation for the CLI, GitLab deploy jobs and e2e.

- model.py: pure decisions (state in, action or refusal out), unit-tested without a cluster
- plan.py: what a flip would change, field by field; only what follows from activeColor may
- release.py: the source of truth, the Helm release values and manifest (HELM_DRIVER=configmap)
- gitops.py: the source of truth where ArgoCD syncs the app: its values file in git
- kube.py: observations (Deployments, pods, Service endpoints, HTTP through port-forward)
- orchestrator.py: deploy / switch / rollback / status flows with progress and a summary
"""
