"""Verification suite for the Kubernetes DevOps platform under ../platform."""

__version__ = "0.1.0"
