"""Orchestration: the use cases, the Prefect flows that batch them, and the CLI.

Importing the package applies rectify's Prefect settings before any flow imports Prefect.
"""

from rectify.flows import prefect_settings as _prefect_settings  # noqa: F401
