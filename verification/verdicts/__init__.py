"""Verdicts: expected against observed, printed the same way by conformance, e2e and the CLI."""
