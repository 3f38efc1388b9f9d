"""Offline-capable e2e clusters: Docker engine, images built from source packages, kind."""
