"""Where the decision pipeline runs: threads of this process, or decision worker processes and
one ledger writer process. Nothing here knows what a decision means."""
