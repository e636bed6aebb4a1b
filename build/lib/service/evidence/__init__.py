"""Evidence sources: where model cards, metrics, lineage and sign-offs come from."""
