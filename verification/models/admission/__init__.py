"""Admission policies evaluated as kube-apiserver applies them (CEL)."""
