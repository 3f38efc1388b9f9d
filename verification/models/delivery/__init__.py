"""Delivery: ArgoCD, GitLab CI and the blue-green chart."""
