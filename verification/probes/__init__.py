"""Probes: everything that asks a live cluster (SubjectAccessReview, probe pods, admission, Prometheus)."""
