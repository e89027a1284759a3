"""Summaries for the national review: compile, compare voices, publish, download."""
