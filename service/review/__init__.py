"""For reviewers: what went where (deployments), reports of decisions."""
