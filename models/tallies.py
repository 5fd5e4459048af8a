"""Running totals of the problems per slice (issue_tallies), kept by the database itself.

A report "as of now" over a million problems cannot afford to look at each problem: it reads
these totals instead. Per slice value (a county, a unit, …) a problem counts in up to three
rows, each of its own kind:
- "state": the row of its state, with every sum the figures need (signs, returns, …);
- "deadline": while the unit's clock runs (已交办, 整改中) against a deadline, the row of that
  deadline, for the overdue count;
- "days": when it is closed, the row of its working days to close, for the median;
- "waiting": while it waits for verification, the row of the day it was submitted (Beijing
  time, kept in the `deadline` column), for 核验超时.
The key starts (dimension, kind, deadline, county, slice value): each read of a report is
one range: the deadlines before a day, or from that day on, are one range too.

Triggers on `issues` keep the totals: every insert, update and delete of a problem, whatever
made it (the ORM, a bulk Core statement, a migration, psql), moves the problem's share from
its old row to its new one, in the same transaction. Void problems are not counted. Rows that
fall to zero are deleted. `refill()` recounts everything from the problems (the migration that
creates the table uses it; so can an operator after restoring a table by hand).

A migration that recreates `issues` (SQLite's batch mode copies the table) drops its
triggers: such a migration must call `install()` again afterwards.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, PrimaryKeyConstraint, String, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from rectify.models.base import Base
from rectify.models.enums import UNIT_CLOCK_STATUSES, Status

# slice name -> the column of `issues` it counts by (category and leader are read through
# the check item and the county)
DIMENSIONS = {"county": "county_id", "township": "township_id", "village": "village_id", "unit": "unit_id",
              "item": "check_item_id", "inspection": "inspection_id", "severity": "severity"}
NO_DEADLINE = date(1900, 1, 1)  # the deadline of the rows not of kind "deadline" or "waiting"
NO_DAYS = -1                    # the days to close of the rows that are not of kind "days"
KINDS = ("state", "deadline", "days", "waiting")
SUMS = ("n", "on_time", "signs", "late_signs", "extended", "submits", "returns", "reopened", "finished", "dated",
        "paused_days")
# The totals as migration 0008 made them: a migration installs the triggers of its own schema.
SUMS_0008 = SUMS[:10]
KEYS = ("dimension", "kind", "deadline", "county_id", "key", "status", "days")
TRIGGERED_BY = ("status", "deadline", "submitted_at", "days_to_close", "closed_on_time", "sign_count",
                "late_sign_count", "extension_count", "submit_count", "return_count", "reopen_count", "closed_at",
                "resolved_on_site_at", *DIMENSIONS.values())
# The column of `issues` a sum reads beyond those above, where it has one of its own.
SUM_COLUMNS = {"paused_days": "paused_workdays"}


class IssueTally(Base):
    __tablename__ = "issue_tallies"
    __table_args__ = (PrimaryKeyConstraint(*KEYS, name="pk_issue_tallies"), {"sqlite_with_rowid": False})

    dimension: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8))
    county_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(40))  # the slice value as text; '' when the problem has none
    status: Mapped[str] = mapped_column(String(16))  # '' in the rows of kind "deadline" and "days"
    deadline: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[int] = mapped_column(Integer)
    signs: Mapped[int] = mapped_column(Integer)
    late_signs: Mapped[int] = mapped_column(Integer)
    extended: Mapped[int] = mapped_column(Integer)
    submits: Mapped[int] = mapped_column(Integer)
    returns: Mapped[int] = mapped_column(Integer)
    reopened: Mapped[int] = mapped_column(Integer)
    finished: Mapped[int] = mapped_column(Integer)
    dated: Mapped[int] = mapped_column(Integer)  # problems whose unit's clock runs against a deadline
    paused_days: Mapped[int] = mapped_column(Integer, server_default="0")  # working days of ended pauses


_UNIT_CLOCK = ", ".join(f"'{s.value}'" for s in sorted(UNIT_CLOCK_STATUSES))


def _no_deadline(dialect: str) -> str:
    return f"DATE '{NO_DEADLINE.isoformat()}'" if dialect == "postgresql" else f"'{NO_DEADLINE.isoformat()}'"


def _local_day(instant: str, dialect: str) -> str:
    """The Beijing-time day of a stored UTC instant, in SQL."""
    if dialect == "postgresql":
        return f"CAST(({instant} AT TIME ZONE 'Asia/Shanghai') AS DATE)"
    return f"date({instant}, '+8 hours')"


def _share(row: str, column: str, kind: str, dialect: str) -> tuple[str, dict[str, str]]:
    """When a problem (row is NEW, OLD or the table name) counts in a row of `kind` of one
    dimension, and the SQL of its share there."""
    share = {"county_id": f"{row}.county_id", "key": f"COALESCE(CAST({row}.{column} AS VARCHAR(40)), '')",
             "status": "''", "deadline": _no_deadline(dialect), "days": str(NO_DAYS), "n": "1"}
    share |= {s: "0" for s in SUMS[1:]}
    closed = f"{row}.status = '{Status.CLOSED.value}'"
    dated = f"{row}.status IN ({_UNIT_CLOCK}) AND {row}.deadline IS NOT NULL"
    if kind == "deadline":
        return dated, share | {"deadline": f"{row}.deadline"}
    if kind == "waiting":
        return (f"{row}.status = '{Status.SUBMITTED.value}' AND {row}.submitted_at IS NOT NULL",
                share | {"deadline": _local_day(f"{row}.submitted_at", dialect)})
    if kind == "days":
        return f"{closed} AND {row}.days_to_close IS NOT NULL", share | {"days": f"{row}.days_to_close"}
    return f"{row}.status <> '{Status.VOID.value}'", share | {
        "status": f"{row}.status",
        "on_time": f"CASE WHEN {closed} AND {row}.closed_on_time THEN 1 ELSE 0 END",
        "signs": f"COALESCE({row}.sign_count, 0)",
        "late_signs": f"COALESCE({row}.late_sign_count, 0)",
        "extended": f"CASE WHEN {row}.extension_count > 0 THEN 1 ELSE 0 END",
        "submits": f"COALESCE({row}.submit_count, 0)",
        "returns": f"COALESCE({row}.return_count, 0)",
        "reopened": f"CASE WHEN {row}.reopen_count > 0 THEN 1 ELSE 0 END",
        "finished": f"CASE WHEN {row}.closed_at IS NOT NULL OR {row}.resolved_on_site_at IS NOT NULL "
                    "THEN 1 ELSE 0 END",
        "dated": f"CASE WHEN {dated} THEN 1 ELSE 0 END",
        "paused_days": f"COALESCE({row}.paused_workdays, 0)",
    }


def _move(row: str, sign: int, dialect: str, sums: tuple[str, ...]) -> list[str]:
    """Statements adding (sign 1) or taking away (sign -1) one problem's share, in every
    dimension and kind."""
    statements = []
    added = ", ".join(f"{s} = issue_tallies.{s} + excluded.{s}" for s in sums)
    for dimension, column in DIMENSIONS.items():
        for kind in KINDS:
            when, share = _share(row, column, kind, dialect)
            values = ", ".join([f"'{dimension}'", f"'{kind}'"] + [share[k] for k in KEYS[2:]]
                               + [f"{sign} * ({share[s]})" for s in sums])
            statements.append(
                f"INSERT INTO issue_tallies ({', '.join(KEYS + sums)}) SELECT {values} WHERE {when} "
                f"ON CONFLICT ({', '.join(KEYS)}) DO UPDATE SET {added}")
            if sign < 0:
                same = " AND ".join([f"dimension = '{dimension}'", f"kind = '{kind}'"]
                                    + [f"{k} = {share[k]}" for k in KEYS[2:]])
                statements.append(f"DELETE FROM issue_tallies WHERE {same} AND n = 0")
    return statements


def install(connection: Connection, sums: tuple[str, ...] = SUMS) -> None:
    """Create (or re-create) the triggers that keep the totals (`sums`: those of the schema at hand)."""
    uninstall(connection)
    columns = ", ".join(TRIGGERED_BY + tuple(SUM_COLUMNS[s] for s in sums if s in SUM_COLUMNS))
    dialect = connection.dialect.name
    if dialect == "sqlite":
        for name, when, body in (("ins", "INSERT", _move("NEW", 1, dialect, sums)),
                                 ("upd", f"UPDATE OF {columns}",
                                  _move("OLD", -1, dialect, sums) + _move("NEW", 1, dialect, sums)),
                                 ("del", "DELETE", _move("OLD", -1, dialect, sums))):
            connection.execute(text(f"CREATE TRIGGER issue_tallies_{name} AFTER {when} ON issues FOR EACH ROW "
                                    f"BEGIN {'; '.join(body)}; END"))
        return
    taken = "; ".join(_move("OLD", -1, dialect, sums))
    added = "; ".join(_move("NEW", 1, dialect, sums))
    connection.execute(text(
        "CREATE FUNCTION issue_tallies_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {taken}; END IF; "
        f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {added}; END IF; "
        "RETURN NULL; END $$"))
    connection.execute(text(f"CREATE TRIGGER issue_tallies_keep AFTER INSERT OR DELETE OR UPDATE OF {columns} "
                            "ON issues FOR EACH ROW EXECUTE FUNCTION issue_tallies_keep()"))


def uninstall(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for name in ("ins", "upd", "del"):
            connection.execute(text(f"DROP TRIGGER IF EXISTS issue_tallies_{name}"))
        return
    connection.execute(text("DROP TRIGGER IF EXISTS issue_tallies_keep ON issues"))
    connection.execute(text("DROP FUNCTION IF EXISTS issue_tallies_keep()"))


def refill(connection: Connection, sums: tuple[str, ...] = SUMS) -> None:
    """Recount every total from the problems (in the caller's transaction)."""
    connection.execute(text("DELETE FROM issue_tallies"))
    positions = ", ".join(str(n) for n in range(3, len(KEYS) + 1))
    for dimension, column in DIMENSIONS.items():
        for kind in KINDS:
            when, share = _share("issues", column, kind, connection.dialect.name)
            summed = ", ".join(f"SUM({share[s]})" for s in sums)
            connection.execute(text(
                f"INSERT INTO issue_tallies ({', '.join(KEYS + sums)}) "
                f"SELECT '{dimension}', '{kind}', {', '.join(share[k] for k in KEYS[2:])}, {summed} "
                f"FROM issues WHERE {when} GROUP BY {positions}"))


def unmeasured(connection: Connection) -> bool:
    """Whether some closed problem has no working days to close (closed before those were kept):
    the closed problems then outnumber the rows of kind "days"."""
    t = IssueTally

    def problems(*where) -> int:
        return connection.scalar(select(func.coalesce(func.sum(t.n), 0)).where(t.dimension == "county", *where)) or 0

    return problems(t.kind == "state", t.status == Status.CLOSED.value) != problems(t.kind == "days")
