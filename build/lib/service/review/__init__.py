"""For reviewers and CI systems: what went where (deployments), the audit listing as a table,
and reports of a decision in the formats CI systems show (JUnit XML, SARIF)."""
