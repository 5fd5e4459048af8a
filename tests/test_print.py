"""The workbooks people print (issue 17): the field plan, the list's export and the ledger,
rendered to PDF by LibreOffice as an office would print them: A4 landscape, one page wide."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from rectify.flows.intake.plan import make_plan
from rectify.flows.reports.issue_list import issue_list_workbook
from rectify.flows.reports.ledger import write_ledger
from rectify.models.places import County

SOFFICE, PDFINFO = shutil.which("soffice"), shutil.which("pdfinfo")
pytestmark = pytest.mark.skipif(not (SOFFICE and PDFINFO), reason="LibreOffice or poppler is not installed "
                                                                 "(.ci/browser installs them)")


def render(workbook: Path, out: Path) -> dict[str, str]:
    """The PDF LibreOffice prints from `workbook`, described by pdfinfo (pages, page size)."""
    profile = out / "lo-profile"
    done = subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                           "--outdir", str(out), str(workbook)], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "HOME": str(out)})
    pdf = out / (workbook.stem + ".pdf")
    assert done.returncode == 0 and pdf.exists(), done.stdout + done.stderr
    info = subprocess.run([PDFINFO, "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True).stdout
    return {"pages": int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:"))),
            "sizes": [line for line in info.splitlines() if line.startswith("Page") and "size:" in line],
            "pdf": pdf}


def landscape_a4(sizes: list[str]) -> bool:
    # "Page    1 size: 841.89 x 595.276 pts (A4)"
    return all("A4" in s and float(s.split("size:")[1].split("x")[0]) > float(s.split("x")[1].split()[0])
               for s in sizes)


def test_the_field_plan_prints_one_page_wide_on_a4_landscape(ctx, tmp_path):
    result = make_plan(ctx, inspection="打印检查", county="理塘县", villages=3, households=4, seed=1,
                       out=tmp_path / "plan.xlsx")
    printed = render(tmp_path / "plan.xlsx", tmp_path)
    rows = sum(result.rows.values())
    assert landscape_a4(printed["sizes"]) and printed["pages"] <= rows // 12 + 6, (printed["pages"], rows)


def test_the_list_export_and_the_ledger_print_one_page_wide(ctx, tmp_path):
    rows = [[f"GZ-2016-{n:05d}", "整改中", "理塘县", "高城镇", "某村", "", "安全住房", "住房", "墙体开裂" * 10,
             "理塘县住建局", "2016-09-30", "红", "黄牌督办"] for n in range(60)]
    export = tmp_path / "list.xlsx"
    export.write_bytes(issue_list_workbook(rows, households=True))
    printed = render(export, tmp_path)
    assert landscape_a4(printed["sizes"]) and printed["pages"] <= 10, printed["pages"]
    county = ctx.session.scalars(select(County).where(County.name == "理塘县")).one()
    write_ledger(ctx.session, tmp_path / "ledger.xlsx", now=ctx.now, calendar=ctx.calendar, policy=ctx.policy,
                 county=county)
    printed = render(tmp_path / "ledger.xlsx", tmp_path)
    assert landscape_a4(printed["sizes"]), printed["sizes"][:3]
