"""Running the Alembic migrations from code (the CLI, the demo and the tests).

The migrations ship inside the package as `rectify.migrations` (the repository's alembic/
folder), so an installed wheel finds them exactly as a checkout does."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import command
from alembic.config import Config


def script_location() -> Path:
    spec = importlib.util.find_spec("rectify.migrations")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("rectify.migrations is not installed with the package")
    return Path(next(iter(spec.submodule_search_locations)))


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def check(url: str | None = None) -> None:
    """Raise if the models and the migrations have drifted apart."""
    command.check(alembic_config(url))
