"""Shared fixtures: a migrated, seeded database built once per run; a rolled-back session per test.

The backend is SQLite unless RECTIFY_TEST_DATABASE_URL names a PostgreSQL server, in which
case every database the tests use is created (and dropped) on that server.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from world import world  # noqa: F401  (the lifecycle tests' fixture)

import rectify.flows.prefect_settings  # noqa: F401  - before Prefect is imported anywhere
from rectify.flows import context as flow_context
from rectify.flows.context import Context
from rectify.models import migrate
from rectify.models.calendar import SHANGHAI, WorkCalendar
from rectify.models.db import make_engine, normalise_url
from rectify.models.policy import load_policy
from rectify.seeds.loader import load_reference
from rectify.seeds.synthetic import load_synthetic

PG_URL = os.environ.get("RECTIFY_TEST_DATABASE_URL")
os.environ.pop("RECTIFY_BASE_URL", None)  # messages link to the documented default unless a test sets it


def pytest_report_header(config) -> str:
    return f"rectify database backend: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}"


class Backend:
    """Makes empty databases and copies of a template, on SQLite or PostgreSQL."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.created: list[str] = []

    def _admin(self):
        url = make_url(normalise_url(PG_URL)).set(database="postgres")
        return create_engine(url, isolation_level="AUTOCOMMIT")

    def empty(self) -> str:
        return self._create(template_url=None)

    def copy(self, template_url: str) -> str:
        return self._create(template_url=template_url)

    def _create(self, *, template_url: str | None) -> str:
        name = f"rectify_t_{uuid.uuid4().hex[:10]}"
        if not PG_URL:
            target = self.tmp / (name + ".db")
            if template_url is not None:
                shutil.copyfile(Path(make_url(template_url).database), target)
            return f"sqlite:///{target}"
        template = f' TEMPLATE "{make_url(template_url).database}"' if template_url else ""
        engine = self._admin()
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
        engine.dispose()
        self.created.append(name)
        return make_url(normalise_url(PG_URL)).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not PG_URL or not self.created:
            return
        engine = self._admin()
        with engine.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session")
def backend(tmp_path_factory) -> Iterator[Backend]:
    b = Backend(tmp_path_factory.mktemp("db"))
    yield b
    for engine in flow_context._engines.values():
        engine.dispose()
    flow_context._engines.clear()
    b.drop_all()


@pytest.fixture(scope="session")
def template_url(backend: Backend) -> str:
    """Migrated with the real Alembic migrations and seeded with the synthetic registry."""
    url = backend.empty()
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        report = load_reference(session)
        load_synthetic(session, report)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def engine(backend: Backend, template_url: str):
    engine = make_engine(backend.copy(template_url))
    yield engine
    engine.dispose()


@pytest.fixture()
def session(engine) -> Iterator[Session]:
    """A session whose commits are savepoints inside one transaction rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as s:
            yield s
        transaction.rollback()


AS_OF = datetime(2016, 8, 22, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture()
def ctx(session: Session) -> Context:
    return Context(session=session, now=AS_OF)


@pytest.fixture()
def policy(session):
    return load_policy(session)


@pytest.fixture()
def calendar(session):
    return WorkCalendar.load(session)


@pytest.fixture()
def fresh_db(backend: Backend, template_url: str, tmp_path: Path, monkeypatch) -> str:
    """A seeded database of its own, used by CLI tests that commit."""
    url = backend.copy(template_url)
    monkeypatch.setenv("RECTIFY_DATABASE_URL", url)
    monkeypatch.setenv("RECTIFY_HOME", str(tmp_path / "home"))
    yield url
    engine = flow_context._engines.pop(url, None)
    if engine is not None:
        engine.dispose()


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole run (its start-up costs seconds)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=None):
        yield
