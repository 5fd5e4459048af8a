"""Alembic environment: the URL comes from the caller's config, else from rectify's settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy.types import TypeDecorator

from rectify import models
from rectify.models.db import database_url, make_engine

config = context.config
target_metadata = models.Base.metadata


def _url() -> str:
    # Settings live in pyproject.toml; a caller (models.migrate) may pass a URL in memory.
    if config.file_config.has_option(config.config_ini_section, "sqlalchemy.url"):
        return config.get_main_option("sqlalchemy.url")
    return database_url()


def _render_item(type_, obj, autogen_context):
    """Write the project's TypeDecorators as the plain column type they store."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite" and not connection.in_transaction()
    if sqlite:
        # Batch mode rebuilds a SQLite table (create, copy, drop, rename): with foreign keys
        # enforced, dropping a table other rows refer to fails. As Alembic advises, they are off
        # while the migrations run, and every reference is checked before the commit.
        _foreign_keys(connection, on=False)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left {len(broken)} broken references, first: {broken[0]}")
    if sqlite:
        _foreign_keys(connection, on=True)


def _foreign_keys(connection, *, on: bool) -> None:
    """Outside any transaction (SQLite ignores the pragma inside one), on the driver's connection."""
    connection.connection.dbapi_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
