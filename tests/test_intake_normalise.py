"""What field teams type, made regular: every accepted spelling and the refusals."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from rectify.flows.intake import normalise
from rectify.flows.intake.columns import column_key, find_header
from rectify.models.enums import Result, Severity


@pytest.mark.parametrize("raw, expected", [
    (" 理塘县 ", "理塘县"), ("理 塘 县", "理塘县"), ("ＧＺ１２", "GZ12"), ("\u3000然龙镇\u3000", "然龙镇"), (None, ""),
])
def test_names_lose_spaces_and_full_width_forms(raw, expected):
    assert normalise.name(raw) == expected


def test_text_keeps_inner_words_but_collapses_runs():
    assert normalise.text("  墙体  开裂\n属 C级危房 ") == "墙体 开裂 属 C级危房"
    assert normalise.text(3.0) == "3"


@pytest.mark.parametrize("raw", ["是", "√", "✓", "Y", "yes", "１"])
def test_yes(raw):
    assert normalise.yes_no(raw) is True


@pytest.mark.parametrize("raw", ["否", "×", "", None, "N", "0"])
def test_no(raw):
    assert normalise.yes_no(raw) is False


def test_yes_no_refuses_other_words():
    with pytest.raises(ValueError, match="是 或 否"):
        normalise.yes_no("也许")


@pytest.mark.parametrize("raw, expected", [
    ("符合", Result.PASS), ("合格", Result.PASS), ("不符合", Result.FAIL), ("×", Result.FAIL),
    ("典型经验", Result.GOOD), (" 不 符 合 ", Result.FAIL), ("FAIL", Result.FAIL),
])
def test_results(raw, expected):
    assert normalise.result(raw) is expected


def test_result_refusal_lists_the_choices():
    with pytest.raises(ValueError, match="符合 / 不符合 / 典型经验"):
        normalise.result("待定")


def test_severity_by_label_or_code():
    assert normalise.severity("较重") is Severity.SERIOUS
    assert normalise.severity("grave") is Severity.GRAVE
    with pytest.raises(ValueError, match="一般 / 较重 / 严重"):
        normalise.severity("很严重")


@pytest.mark.parametrize("raw", [
    "2016-08-20", "2016/8/20", "2016年8月20日", "8月20日", "２０１６－０８－２０", "20160820", 42602, "42602",
    datetime(2016, 8, 20, 0, 0), date(2016, 8, 20), "2016.8.20",
])
def test_dates_in_every_form_teams_use(raw):
    assert normalise.a_date(raw, year=2016) == date(2016, 8, 20)


@pytest.mark.parametrize("raw", ["2016-02-30", "下周一", "13月2日", "2016-8"])
def test_impossible_or_unreadable_dates_are_refused(raw):
    with pytest.raises(ValueError):
        normalise.a_date(raw, year=2016)


def test_deadline_is_a_date_or_working_days():
    assert normalise.deadline("15", year=2016) == 15
    assert normalise.deadline("10个工作日", year=2016) == 10
    assert normalise.deadline(7, year=2016) == 7
    assert normalise.deadline("9月30日", year=2016) == date(2016, 9, 30)
    with pytest.raises(ValueError, match="大于 0"):
        normalise.deadline("0", year=2016)


def test_headers_in_chinese_english_and_full_width():
    assert column_key("县(市)") == "county"
    assert column_key("县(市)") == "county"
    assert column_key(" County ") == "county"
    assert column_key("户 编 号") == "household_no"
    assert column_key("检查标准") is None


def test_the_header_row_may_sit_below_a_title():
    rows = [("2016年督导发现问题清单",), (), ("县(市)", "检查项目", "结果"), ("理塘县", "C01", "符合")]
    assert find_header(rows) == 3
    assert find_header([("标题",), ("县(市)", "备注")]) is None
