"""Channels, messages and delivery against local stand-ins of DingTalk, WeCom, Feishu and SMTP."""

from __future__ import annotations

import logging

import pytest
from jinja2 import UndefinedError
from standins import DINGTALK_KEYWORD, DINGTALK_TOO_FAST, WECOM_FREQ, Mailbox, Robots

from rectify.models.enums import MessageKind
from rectify.models.errors import InvalidInput
from rectify.notifications.messages import Section, render_digest
from rectify.notifications.send import RateLimiter, send
from rectify.notifications.urls import check, kind_of, mask

DING_TOKEN = "d1a2b3c4e5f60718293a4b5c6d7e8f90"
SECRET = "SEC0123456789abcdefSECRET"
POLICY = {"sign_within_days": 1, "due_soon_days": 3, "yellow": 3, "red": 7, "listed": 15}


@pytest.fixture()
def robots():
    with Robots() as r:
        r.secrets[DING_TOKEN] = SECRET
        yield r


@pytest.fixture()
def mailbox():
    with Mailbox() as m:
        yield m


def items(n: int) -> list[dict]:
    return [{"issue_id": i, "code": f"GZ-2016-{i:05d}", "place": "色达县 / 洛若镇 / 呷拉村 / 扎***", "item": "安全住房",
             "deadline": "2016-08-25", "days": -2, "supervision": None, "note": None, "cursor": None}
            for i in range(1, n + 1)]


# --- channel URLs ---------------------------------------------------------------------------


def test_secrets_are_masked_in_every_kind_of_url():
    shown = mask(f"rdingtalk://{DING_TOKEN}/{SECRET}")
    assert DING_TOKEN not in shown and SECRET not in shown and shown.startswith("rdingtalk://d1a2****")
    assert "s3cret" not in mask("mailto://ops:s3cret@smtp.example.com:465?to=a@example.com")
    assert "k3y" not in mask("json://example.com/hook?key=k3y&token=abc")
    assert mask("rwecombot://short") == "rwecombot://****"


def test_urls_that_would_lose_messages_are_refused_with_the_right_scheme():
    with pytest.raises(InvalidInput, match="rwecombot://"):
        check("wecom://abcdef")
    with pytest.raises(InvalidInput, match="rdingtalk://"):
        check(f"dingtalk://{DING_TOKEN}")
    with pytest.raises(InvalidInput, match="协议"):
        check("no-scheme")
    assert check(f"rdingtalk://{DING_TOKEN}/{SECRET}").name == "dingtalk"
    assert check("mailto://localhost:25?from=a@example.com&to=b@example.com").name == "email"
    assert kind_of("rwecombot://x").limit_bytes == 2048


# --- delivery through apprise and rectify's plugins -----------------------------------------


def test_dingtalk_signed_message_arrives(robots):
    attempt = send(f"rdingtalk://{DING_TOKEN}/{SECRET}?api={robots.api}", title="交办通知", body="**GZ-1** 危房",
                   limiter=RateLimiter())
    assert attempt.ok and SECRET not in attempt.channel
    [request] = robots.of("dingtalk")
    assert request["body"]["markdown"] == {"title": "交办通知", "text": "**GZ-1** 危房"}
    assert request["query"]["access_token"] == DING_TOKEN and request["query"]["sign"]


@pytest.mark.parametrize("answer, code", [(DINGTALK_TOO_FAST, "130101"), (DINGTALK_KEYWORD, "310000")])
def test_dingtalk_rejection_with_http_200_is_a_failure_naming_the_code(robots, answer, code):
    robots.answers["dingtalk"].append(answer)
    attempt = send(f"rdingtalk://{DING_TOKEN}/{SECRET}?api={robots.api}", title="t", body="b", limiter=RateLimiter())
    assert not attempt.ok and code in attempt.detail


def test_a_wrong_signing_secret_is_refused_by_the_service(robots):
    attempt = send(f"rdingtalk://{DING_TOKEN}/WRONG-SECRET-0000000?api={robots.api}", title="t", body="b",
                   limiter=RateLimiter())
    assert not attempt.ok and "310000" in attempt.detail


def test_wecom_bot_and_feishu(robots):
    robots.secrets["feishu-token-0000000000000001"] = "FEISHU-SECRET"
    assert send(f"rwecombot://wk-1?api={robots.api}", title="t", body="内容", limiter=RateLimiter()).ok
    assert robots.of("wecombot")[0]["body"]["markdown"]["content"] == "内容"
    robots.answers["wecombot"].append(WECOM_FREQ)
    failed = send(f"rwecombot://wk-1?api={robots.api}", title="t", body="内容", limiter=RateLimiter())
    assert not failed.ok and "45009" in failed.detail
    ok = send(f"rfeishu://feishu-token-0000000000000001/FEISHU-SECRET?api={robots.api}", title="标题", body="正文",
              limiter=RateLimiter())
    card = robots.of("feishu")[0]["body"]["card"]
    assert ok.ok and card["header"]["title"]["content"] == "标题" and card["elements"][0]["text"]["content"] == "正文"
    bad = send(f"rfeishu://feishu-token-0000000000000001/WRONG?api={robots.api}", title="t", body="b",
               limiter=RateLimiter())
    assert not bad.ok and "19021" in bad.detail


def test_wecom_app_message_gets_a_token_first(robots):
    robots.secrets["ww-corp"] = "app-secret"
    assert send(f"rwecomapp://ww-corp/1000002/app-secret?api={robots.api}&to=zhangsan", title="t", body="内容",
                limiter=RateLimiter()).ok
    assert robots.of("wecomapp")[0]["body"]["touser"] == "zhangsan"
    refused = send(f"rwecomapp://ww-corp/1000002/other-secret?api={robots.api}", title="t", body="b",
                   limiter=RateLimiter())
    assert not refused.ok and "40001" in refused.detail


def test_email_arrives_with_chinese_subject_and_body(mailbox):
    attempt = send(mailbox.url("danwei@example.com"), title="色达县水务局:逾期通报(2016-08-29)",
                   body="### 逾期通报\n- **GZ-2016-00001** 安全饮水", limiter=RateLimiter())
    assert attempt.ok
    [message] = mailbox.messages
    assert message["to"] == ["danwei@example.com"] and message["subject"] == "色达县水务局:逾期通报(2016-08-29)"
    assert "GZ-2016-00001" in message["body"] and "安全饮水" in message["body"]


def test_apprise_never_logs_at_debug_even_when_asked_to(robots, caplog):
    with caplog.at_level(logging.DEBUG, logger="apprise"):  # someone turned apprise's logger to DEBUG
        send(f"rdingtalk://{DING_TOKEN}/{SECRET}?api={robots.api}", title="t", body="b", limiter=RateLimiter())
        assert logging.getLogger("apprise").level == logging.INFO
    assert caplog.records and not [r for r in caplog.records if r.levelno < logging.INFO]
    assert DING_TOKEN not in caplog.text and SECRET not in caplog.text


# --- the rate limiter ------------------------------------------------------------------------


def test_rate_limiter_keeps_each_webhook_under_its_limit():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(clock=lambda: now[0], sleep=sleep)
    for _ in range(20):
        assert limiter.wait("robot-a", 20) == 0
        now[0] += 1
    assert limiter.wait("robot-b", 20) == 0  # another robot has its own budget
    waited = limiter.wait("robot-a", 20)
    assert waited == pytest.approx(40) and slept == [pytest.approx(40)]
    assert limiter.wait("mail", None) == 0


# --- messages -------------------------------------------------------------------------------


def test_a_digest_names_each_problem_once_in_its_most_urgent_section_with_a_link(monkeypatch):
    monkeypatch.setenv("RECTIFY_BASE_URL", "https://dc.example.gov.cn/rectify/")
    approved = [{**items(3)[2], "note": "同意延期至 2016-09-09"}]
    message = render_digest(
        recipient="色达县水务局",
        day="2016-08-29",
        policy=POLICY,
        where="https://dc.example.gov.cn/rectify/workbench",
        contact="色达县督查办",
        sections=[Section(MessageKind.ASSIGNMENT, items(1)), Section(MessageKind.EXTENSION_DECIDED, approved),
                  Section(MessageKind.OVERDUE, items(3)), Section(MessageKind.SIGN_REMINDER, items(1))],
    )
    body = message.body
    # GZ-2016-00001 was in three sections and GZ-2016-00003 in two: each is listed once, under 逾期通报.
    assert message.title == "色达县水务局:逾期通报(2016-08-29)" and message.shown == 3
    assert body.count("GZ-2016-00001]") == 1 and body.count("GZ-2016-00003]") == 1
    assert "交办通知" not in body and "签收提醒" not in body
    assert "[GZ-2016-00003](https://dc.example.gov.cn/rectify/issues/GZ-2016-00003)" in body
    assert "同意延期至 2016-09-09" in body  # what the dropped section said is kept
    assert "已逾期 2 个工作日" in body and "扎***" in body and "逾期 3、7、15 个工作日" in body
    assert "(https://dc.example.gov.cn/rectify/workbench)" in body and "有疑问请联系:色达县督查办" in body


def test_a_long_digest_is_cut_in_bytes_and_says_what_was_left_out():
    message = render_digest(
        recipient="色达县水务局",
        day="2016-08-29",
        policy=POLICY,
        where="http://127.0.0.1:8000/workbench",
        contact="色达县督查办",
        sections=[Section(MessageKind.OVERDUE, items(60))],
        limit_bytes=2048,
    )
    assert len(message.body.encode()) <= 2048 < len(message.body) * 3
    assert message.omitted == 60 - message.shown > 0
    assert f"另有 {message.omitted} 项" in message.body and "(http://127.0.0.1:8000/workbench)" in message.body


def test_templates_refuse_missing_values():
    broken = [{"code": "GZ-1"}]
    with pytest.raises(UndefinedError):
        render_digest(recipient="x", day="d", policy=POLICY, where="w", contact="c",
                      sections=[Section(MessageKind.OVERDUE, broken)])


def test_a_recipient_key_is_built_and_read_one_way():
    from rectify.models.deliveries import Recipient, unit_key, user_key

    assert unit_key(7) == "unit:7" and user_key(12) == "user:12"
    assert Recipient.parse(unit_key(7)) == Recipient("unit", 7)
    assert Recipient.parse(user_key(12)).kind == "user"
    for bad in ("unit:", "team:3", "user:x", "7"):
        with pytest.raises(ValueError):
            Recipient.parse(bad)
