"""Monitoring evidence: metric snapshots, the reports monitors produce, and canary-versus-baseline
statistics."""
