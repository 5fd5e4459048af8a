"""Importing a findings file: validate every row, then write all of it (or, asked to, the
valid rows), in batches, in the caller's transaction. Nothing is written when it rejects."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select

from rectify.flows.context import Context
from rectify.flows.evidence_store import keep
from rectify.flows.intake.capture import CaptureBatch, phone_facts
from rectify.flows.intake.columns import RESULT_COLUMNS
from rectify.flows.intake.source import FindingsFile, RowError
from rectify.flows.intake.validate import Candidate, Registry, validate_row
from rectify.flows.intake.workbooks import write_marked_copy
from rectify.models.deliveries import unit_key
from rectify.models.enums import MessageKind, Result, Status
from rectify.models.errors import DomainError, ImportRejected, RegistrarUnknown
from rectify.models.inspections import Finding, Inspection
from rectify.models.issues import Issue
from rectify.models.org import User
from rectify.models.recording import record_issue, reserve_codes
from rectify.notifications.ledger import Notice, notice_item, queue

BATCH = 500
REF_MAX = 40


@dataclass
class ImportReport:
    file: str
    inspection: str
    rows_read: int = 0
    unfilled: int = 0
    passed: int = 0
    good_practice: int = 0
    unchanged: int = 0
    created: list[str] = field(default_factory=list)
    by_county_status: Counter = field(default_factory=Counter)
    notices: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: bool = False
    errors_file: str | None = None
    fatal: str | None = None  # nothing could be imported at all (the file, the inspection, the importer)
    fatal_error: Exception | None = field(default=None, repr=False)  # for the edge to add its own hint

    @property
    def rejected_rows(self) -> int:
        return len({(e.sheet, e.row) for e in self.errors if e.row is not None})


PROGRESS_EVERY = 2000  # rows between two notes of progress


def import_findings(ctx: Context, *, path: Path, inspection: Inspection, importer: User | None,
                    skip_invalid: bool = False, dry_run: bool = False, errors_out: Path | None = None,
                    progress: Path | None = None) -> ImportReport:
    """`progress`: a file rewritten every PROGRESS_EVERY rows with how far the import got (JSON:
    rows read, errors, stage), for a page to show while it waits."""
    report = ImportReport(file=path.name, inspection=inspection.name)
    source = CaptureBatch(path) if path.suffix.lower() == ".json" else FindingsFile(path)
    good = _validate(ctx, source, inspection, importer, report, progress)
    _note(progress, report, "写入" if not report.errors and not dry_run else "完成")
    if importer is None and any(e.column == "inspector" for e in report.errors):
        # One cause, one error: nobody to record these rows as, whatever each row says.
        report.errors = [e for e in report.errors if e.column != "inspector"]
        report.fatal_error = RegistrarUnknown(inspection.name)
        report.fatal = str(report.fatal_error)
        return report
    report.errors[:0] = source.errors
    report.warnings.extend(source.warnings)
    marks = isinstance(source, FindingsFile)  # a phone's batch has no workbook to mark: its errors go back to it
    if report.errors and (not skip_invalid or not good):
        report.errors_file = _mark(path, report, errors_out, only_rejected=False) if marks else None
        return report
    if dry_run:
        return report
    _write(ctx, inspection, good, report)
    report.written = True
    if report.errors and marks:
        report.errors_file = _mark(path, report, errors_out, only_rejected=True)
    return report


def _note(progress: Path | None, report: ImportReport, stage: str) -> None:
    if progress is not None:
        tmp = progress.with_suffix(".tmp")
        tmp.write_text(json.dumps({"rows": report.rows_read, "errors": len(report.errors), "stage": stage},
                                  ensure_ascii=False), encoding="utf-8")
        tmp.replace(progress)


def _validate(ctx: Context, source: FindingsFile | CaptureBatch, inspection: Inspection, importer: User | None,
              report: ImportReport, progress: Path | None = None) -> list[Candidate]:
    registry = Registry(ctx.session, inspection)
    known = dict(ctx.session.execute(
        select(Finding.row_key, Finding.content_hash).where(Finding.inspection_id == inspection.id)
    ).tuples().all())
    year = inspection.start_date.year if inspection.start_date else ctx.today.year
    seen: dict[str, str] = {}
    good: list[Candidate] = []
    for sheet in source.sheets():
        for row in sheet.rows:
            if row.is_blank():
                continue
            report.rows_read += 1
            if report.rows_read % PROGRESS_EVERY == 0:
                _note(progress, report, "检查")
            if all(not row.text(k) for k in RESULT_COLUMNS if k in row.values) and not row.formulas:
                report.unfilled += 1
                continue
            ref = row.name("ref")
            if len(ref) > REF_MAX:
                report.errors.append(RowError(row.sheet, row.row, f"问题编号过长(最多 {REF_MAX} 个字符)", "ref",
                                              row.letters.get("ref"), ref))
                continue
            candidate, errors = validate_row(row, registry, year=year, today=ctx.today, importer=importer)
            if candidate is not None:
                errors = _against_history(candidate, row, seen, known, report)
            if row.extra and (candidate is None or candidate.key not in known):  # photos of rows to write
                phone, phone_errors = phone_facts(row, ctx.policy)
                errors = [*errors, *phone_errors]
                if candidate is not None:
                    candidate.phone = phone
            report.errors.extend(errors)
            if candidate is not None and not errors and candidate.key not in known:
                good.append(candidate)
    return good


def _against_history(candidate: Candidate, row, seen: dict[str, str], known: dict[str, str],
                     report: ImportReport) -> list[RowError]:
    """A key seen earlier in this file is an error; one imported before is unchanged or a conflict."""
    where = ("ref", row.letters.get("ref"), row.values.get("ref")) if candidate.key.startswith("ref:") else \
        ("result", row.letters.get("result"), row.values.get("result"))
    if candidate.key in seen:
        return [RowError(row.sheet, row.row, f"与 {seen[candidate.key]} 重复(同一问题编号或完全相同的内容)", *where)]
    seen[candidate.key] = f"工作表「{row.sheet}」第 {row.row} 行"
    if candidate.key in known:
        if known[candidate.key] == candidate.content_hash:
            report.unchanged += 1
            return []
        return [RowError(row.sheet, row.row, "冲突:此行此前已导入,内容已改变;已导入的记录不会被覆盖,"
                         "请在系统中修改该问题,或换用新的问题编号", *where)]
    return []


def _write(ctx: Context, inspection: Inspection, good: list[Candidate], report: ImportReport) -> None:
    session = ctx.session
    problems = sum(1 for c in good if c.result is Result.FAIL)
    codes = iter(reserve_codes(session, prefix=ctx.policy.code_prefix, year=ctx.today.year, count=problems)
                 if problems else [])
    assigned: dict[int, list[Issue]] = defaultdict(list)
    for start in range(0, len(good), BATCH):
        findings: list[tuple[dict, Issue | None]] = []
        for candidate in good[start:start + BATCH]:
            issue = None
            if candidate.result is Result.FAIL:
                issue = _record(ctx, inspection, candidate, next(codes))
                report.created.append(issue.code)
                report.by_county_status[(candidate.place.county.name, issue.status)] += 1
                if issue.status is Status.ASSIGNED and issue.unit is not None:
                    assigned[issue.unit.id].append(issue)
            elif candidate.result is Result.PASS:
                report.passed += 1
            else:
                report.good_practice += 1
            findings.append((_finding_row(ctx, inspection, candidate, report.file), issue))
        session.flush()  # the batch's problems get their ids
        _keep_photos(session, findings, good[start:start + BATCH], now=ctx.now)
        # Findings are plain rows: one Core insert per batch, not 10,000 ORM objects.
        session.execute(insert(Finding), [{**row, "issue_id": issue.id if issue else None} for row, issue in findings])
    notices = []
    for unit_id, issues in assigned.items():
        codes_sent = sorted(i.code for i in issues)
        reason = f"导入交办 {inspection.name} {hashlib.sha1(' '.join(codes_sent).encode()).hexdigest()[:10]}"
        notices.append(Notice(unit_key(unit_id), MessageKind.ASSIGNMENT, reason[:120], ctx.today,
                              [notice_item(i, today=ctx.today, calendar=ctx.calendar) for i in issues]))
    report.notices = queue(session, notices, now=ctx.now)


def _finding_row(ctx: Context, inspection: Inspection, candidate: Candidate, file: str) -> dict:
    place, phone = candidate.place, candidate.phone
    return {
        "inspection_id": inspection.id, "row_key": candidate.key, "content_hash": candidate.content_hash,
        "result": candidate.result, "county_id": place.county.id,
        "township_id": place.township.id if place.township else None,
        "village_id": place.village.id if place.village else None,
        "household_id": place.household.id if place.household else None,
        "check_item_id": candidate.item.id, "checked_on": candidate.checked_on, "inspector": candidate.inspector,
        "team": candidate.team, "note": candidate.description if candidate.result is Result.GOOD else None,
        "source": f"{file}!{candidate.source}"[:300], "imported_at": ctx.now,
        "captured_at": phone.captured_at if phone else None,
        "latitude": phone.position[0] if phone and phone.position else None,
        "longitude": phone.position[1] if phone and phone.position else None,
    }


def _keep_photos(session, findings: list[tuple[dict, Issue | None]], candidates: list[Candidate], *, now) -> None:
    """A phone record's photos, kept with the problem it recorded as 整改前 (on its record step).
    The files were stored when uploaded; keep() only confirms them."""
    for (_, issue), candidate in zip(findings, candidates, strict=True):
        if issue is None or candidate.phone is None:
            continue
        step = issue.events[0]
        for upload, taken_at, position in candidate.phone.photos:
            keep(upload)
            evidence = upload.row(uploader=candidate.creator, now=now, taken_at=taken_at,
                                  position=position or candidate.phone.position)
            evidence.issue, evidence.event = issue, step
            session.add(evidence)


def _record(ctx: Context, inspection: Inspection, candidate: Candidate, code: str) -> Issue:
    try:
        return record_issue(
            ctx.session, actor=candidate.creator, now=ctx.now, policy=ctx.policy, calendar=ctx.calendar,
            place=candidate.place, item=candidate.item, description=candidate.description,
            severity=candidate.severity, inspection=inspection, external_ref=candidate.ref,
            unit=None if candidate.on_site_note else candidate.unit,
            deadline=None if candidate.on_site_note else candidate.deadline,
            on_site_note=candidate.on_site_note, cosigner=candidate.cosigner, code=code, flush=False,
        )
    except DomainError as exc:
        raise ImportRejected(f"{candidate.source}:{exc}(未写入任何数据)") from None


def _mark(path: Path, report: ImportReport, errors_out: Path | None, *, only_rejected: bool) -> str | None:
    by_row: dict[tuple[str, int], list[RowError]] = defaultdict(list)
    for error in report.errors:
        if error.row is not None:
            by_row[(error.sheet, error.row)].append(error)
    if not by_row:
        return None
    suffix = ".未导入" if only_rejected else ".错误说明"
    out = errors_out or path.with_name(path.stem + suffix + path.suffix)
    write_marked_copy(path, by_row, out, only_rejected=only_rejected)
    return str(out)
