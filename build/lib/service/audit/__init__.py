"""The signed, hash-chained audit ledger: one DSSE envelope per decision, verifiable offline."""
