"""Schemas and references of the rendered objects (built-in kinds, CRDs)."""
