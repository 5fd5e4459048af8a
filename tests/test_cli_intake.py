"""`rectify plan | template | import | coverage` as a coordinator runs them; import runs the Prefect flow."""

from __future__ import annotations

import json
import re
from datetime import date

from openpyxl import load_workbook
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterTags
from typer.testing import CliRunner

from rectify.flows.cli import app
from rectify.flows.demo_findings import fill_plan

runner = CliRunner()
DAY = "2016-08-22 10:00"


def rectify(*args, code: int = 0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output + (result.stderr or "")
    return result


def ours(stderr: str) -> list[str]:
    """What the command itself printed. CliRunner closes the stream Prefect's console log handler
    holds between invocations, which the logging module reports as "--- Logging error ---"
    blocks; Prefect's own lines (here on the console, in real use in the log file) go too."""
    rest = re.sub(r"--- Logging error ---.*?\nArguments: [^\n]*\n", "", stderr, flags=re.S)
    return [line for line in rest.splitlines() if line.strip() and not re.match(r"\d\d:\d\d:\d\d\.\d+ \|", line)]


def assert_no_traceback_of_ours(result) -> None:
    assert "Traceback" not in result.stdout and not any("Traceback" in line for line in ours(result.stderr))


def test_plan_fill_import_reimport_and_coverage(fresh_db, prefect_harness, tmp_path):
    plan = tmp_path / "plan.xlsx"
    out = rectify("plan", "--inspection", "理塘县第一批", "--county", "理塘县", "--villages", 2, "--households", 3,
                  "--seed", 9, "--leader", "督导组长15", "--out", plan, "--as-of", "2016-08-19").stdout
    assert "检查表已写出" in out and plan.exists()
    filled = tmp_path / "filled.xlsx"
    made = fill_plan(plan, filled, seed=2, leader="督导组长15", checked_on=date(2016, 8, 20), inspector="督导员15",
                     fail_share=0.3)

    result = rectify("import", filled, "--inspection", "理塘县第一批", "--as-of", DAY, "--format", "json")
    report = json.loads(result.stdout)
    assert report["written"] and len(report["created"]) == made["不符合"] and report["errors"] == []
    assert sum(r["count"] for r in report["by_county_status"]) == made["不符合"]

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["import-findings-summary"])))
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["inspection:理塘县第一批"]))
        )
    tables = [{r["项目"]: r["值"] for r in json.loads(a.data)} for a in artifacts]
    assert any(t["督导"] == "理塘县第一批" and t["新建问题"] == len(report["created"]) for t in tables)
    assert runs and all(r.state.is_completed() for r in runs)

    again = json.loads(rectify("import", filled, "--inspection", "理塘县第一批", "--as-of", DAY,
                               "--format", "json").stdout)
    assert again["created"] == [] and again["unchanged"] == report["rows_read"]

    listed = json.loads(rectify("issue", "list", "--county", "理塘县", "--format", "json", "--as-of", DAY).stdout)
    assert {i["code"] for i in listed} == set(report["created"])

    covered = json.loads(rectify("coverage", "--format", "json", "--as-of", DAY).stdout)
    litang = next(r for r in covered if r["county"] == "理塘县")
    assert litang["inspected"] == 2 and litang["uncovered"] == litang["planned"] - 2


def test_a_rejected_import_exits_non_zero_with_each_error(fresh_db, prefect_harness, tmp_path):
    rectify("plan", "--inspection", "拒绝测试", "--county", "色达县", "--villages", 1, "--households", 1,
            "--out", tmp_path / "p.xlsx", "--leader", "督导组长14", "--as-of", "2016-08-19")
    workbook = load_workbook(tmp_path / "p.xlsx")
    sheet = workbook["村"]
    headers = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=headers.index("结果") + 1, value="不符合")
    sheet.cell(row=2, column=headers.index("问题描述") + 1, value="作战图未上墙")
    sheet.cell(row=2, column=headers.index("严重程度") + 1, value="特别严重")
    sheet.cell(row=3, column=headers.index("县(市)") + 1, value="色达")
    sheet.cell(row=3, column=headers.index("结果") + 1, value="符合")
    workbook.save(tmp_path / "bad.xlsx")
    result = rectify("import", tmp_path / "bad.xlsx", "--inspection", "拒绝测试", "--as-of", DAY, code=1)
    assert "工作表「村」 第 2 行" in result.stderr and "严重程度" in result.stderr
    assert "第 3 行" in result.stderr and "色达县" in result.stderr
    assert "导入被拒绝" in result.stderr and "bad.错误说明.xlsx" in result.stderr.replace("\n", "")
    assert_no_traceback_of_ours(result)
    listed = json.loads(rectify("issue", "list", "--county", "色达县", "--format", "json").stdout)
    assert listed == []


def test_unknown_inspection_and_unreadable_file(fresh_db, prefect_harness, tmp_path):
    bad = tmp_path / "x.xlsx"
    bad.write_text("no")
    result = rectify("import", bad, "--inspection", "不存在的督导", code=1)
    assert "找不到督导「不存在的督导」" in result.stderr
    rectify("plan", "--inspection", "有督导", "--county", "色达县", "--villages", 1, "--households", 1,
            "--out", tmp_path / "p.xlsx")
    result = rectify("import", bad, "--inspection", "有督导", code=1)
    assert "不是 .xlsx 工作簿" in result.stderr
    assert_no_traceback_of_ours(result)


def test_template_is_a_blank_importable_workbook(fresh_db, tmp_path):
    path = tmp_path / "t.xlsx"
    rectify("template", "--out", path)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["问题清单", "填写说明"]
    assert [c.value for c in workbook["问题清单"][1]][:5] == ["问题编号", "督导组", "检查日期", "检查人", "县(市)"]
    assert workbook["问题清单"].max_row == 1


def test_an_unknown_importer_is_one_error_before_any_row(fresh_db, prefect_harness, tmp_path):
    plan = tmp_path / "plan.xlsx"
    rectify("plan", "--inspection", "无组长督导", "--county", "色达县", "--villages", 2, "--households", 3,
            "--out", plan, "--as-of", "2016-08-19")
    filled = tmp_path / "filled.xlsx"
    made = fill_plan(plan, filled, seed=4, leader="督导组长14", checked_on=date(2016, 8, 20), inspector="不是用户",
                     fail_share=0.5)
    assert made["不符合"] > 1
    result = rectify("import", filled, "--inspection", "无组长督导", "--as-of", DAY, code=1)
    assert sum(line.count("不知道以谁的名义登记") for line in ours(result.stderr)) == 1
    assert "--as" in result.stderr and "--leader" in result.stderr and "第 2 行" not in result.stderr
    assert_no_traceback_of_ours(result)
    assert json.loads(rectify("issue", "list", "--county", "色达县", "--format", "json").stdout) == []
    again = json.loads(rectify("import", filled, "--inspection", "无组长督导", "--as", "督导组长14", "--as-of", DAY,
                               "--format", "json").stdout)
    assert again["written"] and len(again["created"]) == made["不符合"]


def test_every_broken_file_is_one_plain_message_and_the_run_completes(fresh_db, prefect_harness, tmp_path):
    rectify("plan", "--inspection", "坏文件", "--county", "色达县", "--villages", 1, "--households", 1,
            "--out", tmp_path / "p.xlsx", "--as-of", "2016-08-19")
    good = (tmp_path / "p.xlsx").read_bytes()
    files = {"empty.xlsx": b"", "text.xlsx": "县(市),结果\n".encode(), "old.xls": b"\xd0\xcf\x11\xe0",
             "locked.xlsx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2048), "cut.xlsx": good[: len(good) // 2],
             "big5.csv": "縣(市),檢查項目,結果\n".encode("big5")}
    for name, content in files.items():
        path = tmp_path / name
        path.write_bytes(content)
        result = rectify("import", path, "--inspection", "坏文件", "--as-of", DAY, code=1)
        assert_no_traceback_of_ours(result)
        said = ours(result.stderr)
        if name.endswith(".csv"):  # read, but no header: the row-level report, with the encoding named
            assert "Big5" in "".join(said) and said[-1].startswith("导入被拒绝"), result.stderr
        else:  # the file itself: one line
            assert len(said) == 1 and said[0].startswith("错误:") and name in said[0], result.stderr
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["inspection:坏文件"])))
    assert len(runs) == len(files) and all(r.state.is_completed() for r in runs)


def test_a_killed_import_leaves_no_run_running_and_writes_nothing(fresh_db, prefect_harness, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from openpyxl import Workbook
    from prefect.settings import PREFECT_API_URL

    from rectify.flows.runs import mark_orphaned_runs

    rectify("plan", "--inspection", "被中断", "--county", "色达县", "--villages", 1, "--households", 1,
            "--out", tmp_path / "p.xlsx", "--leader", "督导组长14", "--as-of", "2016-08-19")
    plan = load_workbook(tmp_path / "p.xlsx", read_only=True)
    head, first = list(plan["村"].iter_rows(max_row=2, values_only=True))
    big = Workbook(write_only=True)
    sheet = big.create_sheet("村")
    sheet.append(head)
    result, ref = head.index("结果"), head.index("问题编号")
    for n in range(40_000):  # long enough to be killed while it validates
        values = list(first)
        values[result], values[ref] = "符合", f"K{n:05d}"
        sheet.append(values)
    big.save(tmp_path / "big.xlsx")
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    child = subprocess.Popen([str(Path(sys.executable).parent / "rectify"), "import", str(tmp_path / "big.xlsx"),
                              "--inspection", "被中断", "--as-of", DAY], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    tagged = FlowRunFilter(tags=FlowRunFilterTags(all_=["inspection:被中断"]))
    try:
        with get_client(sync_client=True) as client:
            for _ in range(600):
                runs = client.read_flow_runs(flow_run_filter=tagged)
                if runs and runs[0].state.is_running():
                    break
                time.sleep(0.1)
            assert runs and runs[0].state.is_running(), "the import's run never started"
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
            assert client.read_flow_run(runs[0].id).state.is_running()  # what Prefect knows by itself
            assert mark_orphaned_runs() == 1 and mark_orphaned_runs() == 0
            state = client.read_flow_run(runs[0].id).state
        assert state.is_crashed() and "进程已终止" in state.message
    finally:
        if child.poll() is None:
            child.kill()
    assert json.loads(rectify("issue", "list", "--county", "色达县", "--format", "json").stdout) == []
