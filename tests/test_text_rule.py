"""Text that cannot poison an export: one rule on every way in (pages, API, CLI, import) refuses
control characters and over-long text, naming the field (or the sheet, row and column); every
export writes text as text, so nothing stored becomes a formula or breaks a workbook; a
migration cleans rows stored before the rule."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from typer.testing import CliRunner
from webworld import PASSWORD, build

from rectify.flows.cli import app as cli
from rectify.flows.clock import parse_instant
from rectify.flows.context import unit_of_work
from rectify.flows.reports.dossier import write_dossier
from rectify.flows.reports.ledger import write_ledger
from rectify.models import migrate
from rectify.models.issues import Issue, IssueEvent
from rectify.models.lookup import get_issue
from rectify.web.app import create_app

AS_OF = "2016-08-23 10:00"
FORMULA = '=HYPERLINK("http://example.com/steal","点击查看")'
runner = CliRunner()


@pytest.fixture()
def world(fresh_db):
    return build(fresh_db)


def _login(app, name: str) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token}).status_code == 200
    return client


def _events(world, code: str) -> int:
    with unit_of_work(parse_instant(AS_OF), url=world.url) as ctx:
        return ctx.session.scalar(select(func.count()).select_from(IssueEvent).join(Issue)
                                  .where(Issue.code == code))


@pytest.mark.parametrize("bad, says", [("有\x00空字符", "U+0000"), ("响\x07铃", "U+0007"), ("长" * 2001, "最多 2000")])
def test_every_edge_refuses_the_same_bad_text_naming_the_field(world, bad, says):
    code = world.codes["assigned"]
    before = _events(world, code)
    app = create_app(url=world.url, as_of=AS_OF)
    # The page: the step is refused with the reason, nothing is written.
    page = _login(app, world.handler)
    form = page.get(f"/issues/{code}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    answer = page.post(f"/issues/{code}/act/sign", data={"csrf": csrf, "version": version})
    assert answer.status_code == 200
    form = page.get(f"/issues/{code}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    signed = _events(world, code)
    refused = page.post(f"/issues/{code}/act/progress", data={"csrf": csrf, "version": version, "note": bad},
                        follow_redirects=True)
    assert "整改进展" in refused.text and says in refused.text
    assert _events(world, code) == signed == before + 1
    # The API: 400 with the field's name (a form field over 2,000 is refused by its schema: 422).
    api = TestClient(app).post(f"/api/issues/{code}/progress", data={"note": bad},
                               headers={"Authorization": f"Bearer {world.tokens[world.handler]}"})
    assert api.status_code in (400, 422), api.text
    if api.status_code == 400:
        assert "整改进展" in api.json()["error"] and says in api.json()["error"]
    # The CLI: exit 1 and the same words on stderr.
    result = runner.invoke(cli, ["issue", "progress", code, "--note", bad, "--as", world.handler, "--as-of", AS_OF])
    assert result.exit_code == 1 and "整改进展" in result.output and says in result.output
    assert _events(world, code) == signed


def test_exports_write_stored_text_as_text_and_survive_what_was_stored_before_the_rule(world, tmp_path):
    code = world.codes["assigned"]
    with unit_of_work(parse_instant(AS_OF), url=world.url) as ctx:
        # Stored before the rule (or by hand): a formula and a control character (SQLite keeps a
        # NUL too; PostgreSQL's text cannot hold one).
        ctx.session.execute(update(Issue).where(Issue.code == code).values(description=FORMULA,
                                                                           measures="措施\x07一"))
    app = create_app(url=world.url, as_of=AS_OF)
    export = _login(app, world.coordinator).get("/issues.xlsx")
    assert export.status_code == 200
    cells = [c for row in load_workbook(io.BytesIO(export.content)).active.iter_rows() for c in row
             if c.value == FORMULA]
    assert cells and all(c.data_type == "s" for c in cells)
    with unit_of_work(parse_instant(AS_OF), url=world.url) as ctx:
        ledger = write_ledger(ctx.session, tmp_path / "台账.xlsx", now=ctx.now, calendar=ctx.calendar,
                              policy=ctx.policy)
        dossier = write_dossier(ctx.session, get_issue(ctx.session, code), tmp_path / "档案.xlsx",
                                policy=ctx.policy, today=ctx.today)
    for path in (ledger.path, dossier):
        book = load_workbook(path)
        found = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row if c.value == FORMULA]
        assert found and all(c.data_type == "s" for c in found), path
        values = [c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
        assert "措施一" in values or dossier != path, path


def test_the_migration_cleans_control_characters_already_stored(world):
    code = world.codes["assigned"]
    migrate.downgrade(world.url, "0009")  # as before the rule
    with unit_of_work(parse_instant(AS_OF), url=world.url) as ctx:  # PostgreSQL text holds no NUL: a bell
        ctx.session.execute(update(Issue).where(Issue.code == code).values(description="作战图\x07未上墙",
                                                                           measures="措\x1b施"))
        ctx.session.execute(update(IssueEvent).where(IssueEvent.issue_id == select(Issue.id).where(
            Issue.code == code).scalar_subquery()).values(note="登\x08记"))
    migrate.upgrade(world.url)
    with unit_of_work(parse_instant(AS_OF), url=world.url) as ctx:
        issue = get_issue(ctx.session, code)
        assert (issue.description, issue.measures) == ("作战图未上墙", "措施")
        assert {e.note for e in issue.events} == {"登记"}
