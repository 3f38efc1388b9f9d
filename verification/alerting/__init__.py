"""Live alerting: the platform's rules and routes run by a real Prometheus and Alertmanager
against real app processes, notifications caught by a webhook receiver (loopback only)."""
