"""SMS (Aliyun, Tencent Cloud), DingTalk work notices and Feishu app messages (issue 19),
against local stand-ins that check signatures and tokens and answer with the providers' real
bodies: delivery through the ledger, refusals recorded with the provider's code, phone numbers
masked, read receipts, and the fallback to the next channel when a notice stays unread."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from standins import ALIYUN_LIMIT, TENCENT_LIMIT, Providers
from typer.testing import CliRunner

from rectify.models.calendar import SHANGHAI
from rectify.models.deliveries import Channel, Delivery, user_key
from rectify.models.enums import DeliveryStatus, MessageKind, ReadState
from rectify.models.errors import InvalidInput
from rectify.models.lookup import get_user
from rectify.models.org import mask_phone, normalise_phone
from rectify.notifications.ledger import Directory, Notice, days_left_on, deliver_to, queue
from rectify.notifications.receipts import ReadSummary, check_group, unread_groups
from rectify.notifications.send import RateLimiter
from rectify.notifications.urls import mask

NUMBERS = {"sign_within_days": 1, "due_soon_days": 3, "yellow": 3, "red": 7, "listed": 15}
MONDAY = datetime(2016, 8, 22, 8, 30, tzinfo=SHANGHAI)
PHONE = "13800001234"
ALI = ("LTAI5tAbCdEfGhIjKlMnOp", "aliyunsecret0123456789abcdefgh")
TC = ("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE")
DT = ("dingappkey0123456", "dingappsecret0123456789")
FS = ("cli_a1b2c3d4e5f6", "feishuappsecret0123456789")


@pytest.fixture()
def providers():
    with Providers() as p:
        p.keys.update(dict([ALI, TC, DT, FS]))
        yield p


@pytest.fixture()
def leader(session):
    user = get_user(session, "州领导13")
    user.phone = PHONE
    session.flush()
    return user


def channel(session, user, url: str, priority: int) -> Channel:
    row = Channel(user=user, url=url, kind="x", priority=priority, active=True, created_at=MONDAY)
    session.add(row)
    session.flush()
    return row


def red_notice(session, user, kind=MessageKind.RED) -> None:
    item = {"issue_id": None, "code": "GZ-2016-00042", "place": "理塘县 / 高城镇 / 某村", "item": "安全住房",
            "deadline": "2016-08-10", "days": -8, "supervision": "红牌", "note": None, "cursor": None}
    queue(session, [Notice(user_key(user.id), kind, "升级", MONDAY.date(), [item])], now=MONDAY)


def deliver(session, user, now=MONDAY, tmp_path=None):
    directory = Directory.load(session)
    return deliver_to(session, user_key(user.id), now=now, outbox=tmp_path, limiter=RateLimiter(), policy=NUMBERS,
                      directory=directory, days_left=days_left_on(now.date(), _calendar(session)))


def _calendar(session):
    from rectify.models.calendar import WorkCalendar

    return WorkCalendar.load(session)


def row_of(session, user) -> Delivery:
    return session.query(Delivery).filter(Delivery.recipient == user_key(user.id)).one()


def test_phone_numbers_are_checked_and_shown_masked():
    assert normalise_phone("+86 138-0000-1234") == PHONE and mask_phone(PHONE) == "138****1234"
    with pytest.raises(InvalidInput, match="11 位"):
        normalise_phone("12345")


def test_aliyun_sms_goes_to_the_persons_own_number_signed_with_the_templates_parameters(session, leader, providers,
                                                                                        tmp_path):
    channel(session, leader, f"raliyunsms://{ALI[0]}/{ALI[1]}/SMS_154950909?signname=甘孜督查&api={providers.api}", 1)
    red_notice(session, leader)
    outcome = deliver(session, leader, tmp_path=tmp_path)
    assert outcome.ok
    [sms] = providers.of("aliyunsms")
    assert sms["params"]["PhoneNumbers"] == PHONE and sms["params"]["TemplateCode"] == "SMS_154950909"
    assert json.loads(sms["params"]["TemplateParam"]) == {"name": "州领导13(联系色达县)", "count": "1",
                                                          "what": "红牌督办"}
    row = row_of(session, leader)
    assert row.status is DeliveryStatus.SENT and "138****1234" in row.channel and PHONE not in row.channel
    assert ALI[1] not in json.dumps(row.result)


def test_an_aliyun_refusal_is_a_failure_naming_its_code(session, leader, providers, tmp_path):
    channel(session, leader, f"raliyunsms://{ALI[0]}/{ALI[1]}/SMS_1?signname=甘孜督查&api={providers.api}", 1)
    providers.answers["aliyunsms"].append(ALIYUN_LIMIT)
    red_notice(session, leader)
    assert not deliver(session, leader, tmp_path=tmp_path).ok
    row = row_of(session, leader)
    assert row.status is DeliveryStatus.FAILED and "isv.BUSINESS_LIMIT_CONTROL" in row.error
    # A wrong secret fails the provider's signature check: its code is recorded too.
    session.query(Channel).delete()
    channel(session, leader, f"raliyunsms://{ALI[0]}/wrongsecret/SMS_1?signname=甘孜督查&api={providers.api}", 1)
    row.next_attempt_at = MONDAY
    session.flush()
    assert not deliver(session, leader, tmp_path=tmp_path).ok
    assert "SignatureDoesNotMatch" in row_of(session, leader).error


def test_tencent_sms_signs_with_tc3_and_a_numbers_daily_limit_is_a_failure(session, leader, providers, tmp_path):
    url = f"rtencentsms://{TC[0]}/{TC[1]}/1400006666/449739?signname=甘孜督查&to=13900001111&api={providers.api}"
    assert "13900001111" not in mask(url) and TC[1] not in mask(url)
    channel(session, leader, url, 1)
    red_notice(session, leader)
    assert deliver(session, leader, tmp_path=tmp_path).ok
    [sms] = providers.of("tencentsms")
    assert sms["body"]["PhoneNumberSet"] == ["+8613900001111"]  # the channel's own number wins
    assert sms["body"]["TemplateParamSet"] == ["州领导13(联系色达县)", "1", "红牌督办"]
    red_notice(session, leader, MessageKind.LISTED)
    providers.answers["tencentsms"].append(TENCENT_LIMIT)
    assert not deliver(session, leader, tmp_path=tmp_path).ok
    failed = session.query(Delivery).filter(Delivery.kind == MessageKind.LISTED).one()
    assert "LimitExceeded.PhoneNumberDailyLimit" in failed.error


def test_an_sms_channel_kept_for_red_and_listed_does_not_carry_an_overdue_digest(session, leader, providers,
                                                                                 tmp_path):
    channel(session, leader, f"raliyunsms://{ALI[0]}/{ALI[1]}/SMS_1?signname=甘孜督查&only=red|listed"
                             f"&api={providers.api}", 1)
    red_notice(session, leader, MessageKind.OVERDUE)
    assert deliver(session, leader, tmp_path=tmp_path).ok
    assert providers.of("aliyunsms") == [] and row_of(session, leader).channel.startswith("outbox:")


def check(session, now, providers_summary=None):
    from rectify.models.policy import load_policy

    summary = providers_summary or ReadSummary()
    directory = Directory.load(session)
    for recipient, sent_at in unread_groups(session):
        check_group(session, recipient, sent_at, now=now, calendar=_calendar(session),
                    fallback_hours=load_policy(session).unread_fallback_hours, numbers=NUMBERS, directory=directory,
                    days_left=days_left_on(now.date(), _calendar(session)), outbox=None, limiter=RateLimiter(),
                    summary=summary)
    return summary


def test_a_dingtalk_work_notice_unread_after_four_office_hours_goes_again_by_sms(session, leader, providers,
                                                                                 tmp_path):
    work = channel(session, leader, f"rdingwork://{DT[0]}/{DT[1]}/2381201?to=manager4220&api={providers.api}", 1)
    channel(session, leader, f"raliyunsms://{ALI[0]}/{ALI[1]}/SMS_1?signname=甘孜督查&api={providers.api}", 2)
    red_notice(session, leader)
    assert deliver(session, leader, tmp_path=tmp_path).ok
    row = row_of(session, leader)
    assert row.read_state is ReadState.UNREAD and row.receipt["channel_id"] == work.id
    assert row.receipt["ref"] == 256271667526 and providers.of("aliyunsms") == []
    # 12:00 on Monday: three office hours (09:00-12:00), not yet four: still unread, nothing sent.
    summary = check(session, MONDAY.replace(hour=12))
    assert summary.checked == 1 and summary.fell_back == 0 and row_of(session, leader).read_state is ReadState.UNREAD
    # 15:00: four hours (the lunch break does not count): the SMS goes.
    summary = check(session, MONDAY.replace(hour=15))
    assert summary.fell_back == 1 and len(providers.of("aliyunsms")) == 1
    row = row_of(session, leader)
    session.refresh(row)
    assert row.read_state is ReadState.FELL_BACK and "138****1234" in row.channel
    assert [r["ok"] for r in row.result] == [True, True]
    assert check(session, MONDAY + timedelta(days=1)).checked == 0  # fell back once, never twice


def test_a_read_work_notice_and_a_read_feishu_message_are_marked_read(session, leader, providers, tmp_path):
    channel(session, leader, f"rdingwork://{DT[0]}/{DT[1]}/2381201?to=manager4220&api={providers.api}", 1)
    red_notice(session, leader)
    assert deliver(session, leader, tmp_path=tmp_path).ok
    providers.read_by.add("manager4220")
    summary = check(session, MONDAY.replace(hour=10))
    row = row_of(session, leader)
    session.refresh(row)
    assert summary.read == 1 and row.read_state is ReadState.READ and row.read_at is not None
    session.query(Channel).delete()
    session.query(Delivery).delete()
    channel(session, leader, f"rfeishuapp://{FS[0]}/{FS[1]}?to=ou_7d8a6e6df7621556&api={providers.api}", 1)
    red_notice(session, leader)
    assert deliver(session, leader, tmp_path=tmp_path).ok
    [sent] = providers.of("feishuapp")
    assert sent["body"]["receive_id"] == "ou_7d8a6e6df7621556" and sent["body"]["msg_type"] == "interactive"
    assert check(session, MONDAY.replace(hour=10)).read == 0
    providers.read_by.add("ou_7d8a6e6df7621556")
    assert check(session, MONDAY.replace(hour=11)).read == 1


def test_deliveries_show_read_states_and_users_get_phones(fresh_db, tmp_path):
    from rectify.flows.cli import app
    from rectify.flows.context import unit_of_work

    runner = CliRunner()
    result = runner.invoke(app, ["user", "phone", "州领导13", "--set", "138 0000 1234"])
    assert result.exit_code == 0 and "138****1234" in result.output and PHONE not in result.output
    refused = runner.invoke(app, ["user", "phone", "州领导13", "--set", "110"])
    assert refused.exit_code == 1 and "11 位" in refused.output
    with unit_of_work(MONDAY, url=fresh_db) as ctx:
        user = get_user(ctx.session, "州领导13")
        assert user.phone == PHONE
        red_notice(ctx.session, user)
        row = ctx.session.query(Delivery).one()
        row.status, row.read_state = DeliveryStatus.SENT, ReadState.UNREAD
    listed = runner.invoke(app, ["deliveries", "--format", "json"])
    assert listed.exit_code == 0 and json.loads(listed.output)[0]["read_state"] == "unread"
    table = runner.invoke(app, ["deliveries"])
    assert "未读" in table.output
