"""Small live probes for the e2e suite (SubjectAccessReview, probe-pod matrix, ...)."""
