"""RBAC: the authorizer computed from manifests, the intent, and effective permissions."""
