"""Orchestration: the use cases, the Prefect flows that batch them, and the CLI."""
