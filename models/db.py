"""Where the database is and how to connect to it."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker


def rectify_home() -> Path:
    return Path(os.environ.get("RECTIFY_HOME", ".rectify")).expanduser()


def database_url() -> str:
    """RECTIFY_DATABASE_URL, else SQLite at $RECTIFY_HOME/rectify.db."""
    configured = os.environ.get("RECTIFY_DATABASE_URL")
    if configured:
        return normalise_url(configured)
    home = rectify_home()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(home / 'rectify.db').resolve()}"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for a bare postgresql:// URL."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin, so SAVEPOINTs work
    # (SQLAlchemy's documented recipe for the pysqlite driver).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


def _sqlite_begin(connection) -> None:
    connection.exec_driver_sql("BEGIN")
