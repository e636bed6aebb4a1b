"""Decisions read back for people and CI systems: reports of a decision in the formats CI
systems show (JUnit XML, SARIF), described with the rule catalogue."""
