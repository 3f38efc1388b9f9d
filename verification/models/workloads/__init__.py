"""Workloads against their namespace: availability, capacity, exposure, hygiene."""
