"""The `import-findings` Prefect flow: one task reads and validates the whole file, one writes
it in batches inside one transaction, and a table artifact summarises what happened.

A rejected file is an outcome, not a failure: the task returns the report with its one plain
reason, so no traceback is printed and the run ends Completed (its artifact says 被拒绝)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import IntegrityError

from rectify.flows.context import unit_of_work
from rectify.flows.intake.importer import ImportReport, import_findings
from rectify.flows.runs import command_run
from rectify.models.errors import Conflict, DomainError
from rectify.models.lookup import get_inspection, get_user


@task(name="validate-and-write", cache_policy=NO_CACHE)
def _import_task(path: Path, inspection: str, now: datetime, actor: str | None, skip_invalid: bool,
                 dry_run: bool, errors_out: Path | None, progress: Path | None = None) -> ImportReport:
    try:
        try:
            with unit_of_work(now) as ctx:
                found = get_inspection(ctx.session, inspection)
                importer = get_user(ctx.session, actor) if actor else found.leader
                return import_findings(ctx, path=path, inspection=found, importer=importer,
                                       skip_invalid=skip_invalid, dry_run=dry_run, errors_out=errors_out,
                                       progress=progress)
        except (IntegrityError, Conflict):
            # Another import of the same rows committed first (PostgreSQL: the unique key; SQLite:
            # the write lock on a stale snapshot, which the unit of work reports as a Conflict);
            # this one wrote nothing.
            raise Conflict(f"另一个导入同时写入了「{inspection}」的相同行;本次未写入任何数据,请重新运行导入") from None
    except DomainError as exc:
        return ImportReport(file=path.name, inspection=inspection, fatal=str(exc), fatal_error=exc)


@flow(name="import-findings", log_prints=False)
def import_findings_flow(path: Path, inspection: str, now: datetime, actor: str | None = None,
                         skip_invalid: bool = False, dry_run: bool = False,
                         errors_out: Path | None = None, progress: Path | None = None) -> ImportReport:
    logger = get_run_logger()
    report = _import_task(path, inspection, now, actor, skip_invalid, dry_run, errors_out, progress)
    _publish(report, dry_run=dry_run)
    if report.fatal:
        logger.warning("导入 %s 被拒绝:%s", path.name, report.fatal)
    elif report.errors:
        logger.warning(
            "导入 %s:%s 个错误,%s", path.name, len(report.errors), "已写入有效行" if report.written else "未写入"
        )
    else:
        logger.info("导入 %s:新建问题 %s 个", path.name, len(report.created))
    return report


def _publish(report: ImportReport, *, dry_run: bool) -> None:
    outcome = "仅校验" if dry_run else ("已写入" if report.written else "被拒绝,未写入")
    rows: list[dict[str, object]] = [
        {"项目": "文件", "值": report.file}, {"项目": "督导", "值": report.inspection},
        {"项目": "结果", "值": report.fatal or outcome}, {"项目": "读取行数", "值": report.rows_read},
        {"项目": "新建问题", "值": len(report.created)}, {"项目": "检查符合", "值": report.passed},
        {"项目": "典型经验", "值": report.good_practice}, {"项目": "此前已导入", "值": report.unchanged},
        {"项目": "未填结果", "值": report.unfilled}, {"项目": "被拒绝的行", "值": report.rejected_rows},
        {"项目": "交办通知", "值": report.notices},
    ]
    rows += [
        {"项目": f"{county} {status.label}", "值": n} for (county, status), n in sorted(report.by_county_status.items())
    ]
    rows += [{"项目": "错误", "值": str(e)} for e in report.errors[:200]]
    create_table_artifact(rows, key="import-findings-summary", description=f"导入 {report.file} 到 {report.inspection}")


def run_import(path: Path, inspection: str, now: datetime, **options) -> ImportReport:
    """Run the flow, tagged with what it touches, and return its report."""
    with command_run("import", f"inspection:{inspection}"):
        return import_findings_flow(path, inspection, now, **options)
