"""Models: expectations computed from manifests; shared by conformance, e2e and the CLI."""
