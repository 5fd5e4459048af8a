"""The migrations are the schema: up, down, up again, and no drift from the models."""

from __future__ import annotations

from sqlalchemy import inspect

from rectify.models import migrate
from rectify.models.base import Base
from rectify.models.db import make_engine


def test_upgrade_downgrade_upgrade_and_no_drift(backend):
    url = backend.empty()
    migrate.upgrade(url)
    engine = make_engine(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    migrate.downgrade(url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(url)
    migrate.check(url)  # raises if the models and the migrations differ
    engine.dispose()


def test_constraints_have_stable_names(engine):
    checks = {c["name"] for c in inspect(engine).get_check_constraints("issues")}
    assert {"ck_issues_status", "ck_issues_severity", "ck_issues_supervision"} <= checks
    indexes = {i["name"] for i in inspect(engine).get_indexes("issues")}
    assert {"ix_issues_status_deadline", "ix_issues_unit_status_deadline", "ix_issues_county_status_deadline",
            "ix_issues_deadline"} <= indexes
