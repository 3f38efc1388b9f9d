"""NetworkPolicy: the truth table, boundary workloads, generated cases, segmentation checks."""
