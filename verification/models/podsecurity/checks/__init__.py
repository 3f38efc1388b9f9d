"""One module per upstream policy check (k8s.io/pod-security-admission v0.33.13, policy/check_*.go)."""
