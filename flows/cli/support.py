"""What every CLI command shares: the error edge, --as-of, output formats."""

from __future__ import annotations

import csv
import functools
import io
import json
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import OperationalError, ProgrammingError

from rectify.models.calendar import CalendarCoverageWarning
from rectify.models.errors import DomainError, InvalidInput

# Piped output (logs, CI, `| less`) gets a width that fits a problem row; a terminal its own.
_PIPED_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 140
console = Console(width=_PIPED_WIDTH)
err_console = Console(stderr=True, width=_PIPED_WIDTH)


class Format(StrEnum):
    table = "table"
    json = "json"


class ListFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


AsOf = Annotated[
    str | None,
    typer.Option("--as-of", help="按此时刻执行(北京时间,如 2016-08-20 或 '2016-08-20 15:30');默认现在"),
]
Actor = Annotated[str, typer.Option("--as", help="执行操作的用户名")]
ExpectVersion = Annotated[
    int | None, typer.Option("--expect-version", help="只在问题仍是此版本时执行(防止覆盖他人修改)")
]


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="从标准输入读取密码(一行),供脚本使用;在终端上省略此项则提示输入")
]


def read_password(from_stdin: bool, *, otherwise: str = "") -> str:
    """The password from standard input, else typed twice at a terminal; never from the command line.
    `otherwise`: the command's own way out when there is no terminal (said in the error)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InvalidInput("标准输入中没有密码(--password-stdin 需要一行密码)")
        return password
    if not sys.stdin.isatty():
        raise InvalidInput(f"没有终端可以输入密码:请用 --password-stdin 从标准输入提供{otherwise}")
    import getpass

    password = getpass.getpass("登录密码:")
    if getpass.getpass("再输入一次:") != password:
        raise InvalidInput("两次输入的密码不一致,未作修改")
    return password


# What a domain error's `field` is called on the command line.
OPTION_OF = {"evidence": "--evidence", "unit": "--unit", "cosign": "--cosign", "township": "--township",
             "village": "--village", "household": "--household", "deadline": "--deadline", "reason": "--reason",
             "supervision": "--level", "period": "--since 与 --until", "scope": "--county 或 --inspection",
             "phone": "--phone", "cause": "--cause", "spread": "--spread", "rules": "--rules",
             "stages": "--stage"}


def edge(func: Callable) -> Callable:
    """Translate domain errors into a Chinese message and exit code 1; show calendar warnings."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CalendarCoverageWarning)
            try:
                return func(*args, **kwargs)
            except DomainError as exc:
                hint = OPTION_OF.get(exc.field or "")
                err_console.print(f"[bold red]错误:[/]{exc}" + (f"(用 {hint} 指明)" if hint else ""))
                raise typer.Exit(1) from None
            except (OperationalError, ProgrammingError) as exc:
                text = str(exc.orig)
                if "no such table" in text or "no such column" in text or "does not exist" in text:
                    err_console.print("[bold red]错误:[/]数据库尚未初始化或结构不是最新版本,"
                                      "请先运行 rectify db upgrade")
                    raise typer.Exit(1) from None
                raise
            finally:
                for w in caught:
                    if issubclass(w.category, CalendarCoverageWarning):
                        err_console.print(f"[yellow]注意:[/]{w.message}")

    return wrapper


@contextmanager
def prefect_logs_to_file() -> Iterator[Path]:
    """Prefect's INFO lines also to $RECTIFY_HOME/logs/prefect.log (the CLI's `main` keeps them off
    the terminal, where only Prefect's warnings and errors show)."""
    from rectify.models.db import rectify_home

    logs = rectify_home() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(logs / "prefect.log", encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s - %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield logs / "prefect.log"
    finally:
        root.removeHandler(handler)
        handler.close()


@contextmanager
def flow_run(name: str) -> Iterator[None]:
    """Around a Prefect flow a person started: a status line while it runs, its log in a file."""
    with prefect_logs_to_file() as log, err_console.status(f"正在运行 Prefect 流程 {name}(日志:{log})"):
        yield


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def print_table(title: str | None, headers: Sequence[str], rows: Sequence[Sequence[str]], *,
                right: Sequence[bool] | None = None) -> None:
    """A table whose headers are never cut: as a table where it fits the terminal, else one block
    per row (the first column, the row's key, as the block's heading; then each header and value)."""
    right = right or [False] * len(headers)
    widths = [max([cell_len(Text.from_markup(c).plain) for c in column] + [cell_len(h)])
              for h, column in zip(headers, zip(*rows, strict=True) if rows else [[]] * len(headers), strict=True)]
    if sum(widths) + 3 * len(headers) + 1 <= console.width:
        table = Table(title=title, show_lines=False)
        for i, header in enumerate(headers):
            # The first column is the key (a code or a name): never broken across lines.
            table.add_column(header, overflow="fold", no_wrap=i == 0, justify="right" if right[i] else "left")
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    if title:
        console.print(f"[bold]{title}[/]")
    for row in rows:
        console.print(f"[bold]{row[0]}[/]")
        # No space inside a pair: a line breaks between pairs, never between a header and its value.
        console.print("  " + "  ".join(f"[dim]{h}:[/]{v or '—'}" for h, v in zip(headers[1:], row[1:], strict=True)),
                      overflow="fold")


def print_rows(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    fmt: str,
    title: str | None = None,
    total: int | None = None,
    more: str | None = None,
) -> None:
    """rows as a Rich table, JSON (the dicts themselves) or CSV (the given columns).

    `total` is how many rows there are in all when `rows` is a cut of them; the table then says
    so, with `more` telling how to see the rest (JSON and CSV hold exactly the rows given)."""
    if fmt == "json":
        print_json(list(rows))
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([label for _, label in columns])
        for row in rows:
            writer.writerow(["" if row.get(k) is None else row.get(k) for k, _ in columns])
        sys.stdout.write(buffer.getvalue())
        return
    cells = [["" if row.get(k) is None else str(row.get(k)) for k, _ in columns] for row in rows]
    print_table(title, [label for _, label in columns], cells)
    if total is not None and total > len(rows):
        console.print(f"[yellow]共 {total} 条,只显示了{more or f'前 {len(rows)} 条'}[/]")
    else:
        console.print(f"共 {len(rows)} 条")
