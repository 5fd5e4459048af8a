"""Login throttling (models.throttle, web/login.py): guessing slows down, the real user gets in.

The rules are read against recorded attempts at chosen instants; the pages are driven over
HTTP with the real clock, as an attacker would meet them."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from test_web_pages import browser, csrf, login
from webworld import PASSWORD, build

from rectify.flows.context import unit_of_work
from rectify.models.accounts import LoginAttempt, record_attempt
from rectify.models.throttle import LIMITS, login_wait, progressive, unlock
from rectify.web import login as login_edge
from rectify.web.app import create_app


@pytest.fixture()
def world(fresh_db):
    return build(fresh_db)


@pytest.fixture()
def app(world):
    return create_app(url=world.url, as_of="2016-08-23 10:00")


T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
OFFICE, ELSEWHERE = "10.0.0.8", "203.0.113.9"


def fail(session, name: str, address: str, at: datetime, times: int = 1) -> None:
    for n in range(times):
        record_attempt(session, name, address=address, now=at + timedelta(milliseconds=n), ok=False)


def test_the_wait_doubles_after_the_free_failures_and_stops_at_the_longest():
    assert [progressive(n, 5, timedelta(minutes=15)).total_seconds() for n in (4, 5, 6, 7, 14, 40)] == \
        [0, 1, 2, 4, 512, 900]
    assert progressive(400, 300, timedelta(seconds=10), step=100).total_seconds() == 2


def test_a_mistyping_user_waits_seconds_and_a_success_starts_the_count_again(session):
    fail(session, "王五", OFFICE, T0, 4)
    assert login_wait(session, "王五", OFFICE, now=T0 + timedelta(seconds=1)) is None
    fail(session, "王五", OFFICE, T0 + timedelta(seconds=1))
    wait = login_wait(session, "王五", OFFICE, now=T0 + timedelta(seconds=1, milliseconds=100))
    assert wait is not None and wait.reason == "pair" and wait.seconds == 1
    assert login_wait(session, "王五", OFFICE, now=T0 + timedelta(seconds=3)) is None  # waited it out
    fail(session, "王五", OFFICE, T0 + timedelta(seconds=3), 3)  # 8 failures: 8 s
    assert login_wait(session, "王五", OFFICE, now=T0 + timedelta(seconds=4)).seconds == 8  # 7.002 s, rounded up
    # Knocking while refused is not recorded, so it does not prolong the wait.
    assert login_wait(session, "王五", OFFICE, now=T0 + timedelta(seconds=12)) is None
    record_attempt(session, "王五", address=OFFICE, now=T0 + timedelta(seconds=12), ok=True)
    fail(session, "王五", OFFICE, T0 + timedelta(seconds=13))
    assert login_wait(session, "王五", OFFICE, now=T0 + timedelta(seconds=13, milliseconds=10)) is None


def test_an_attacker_elsewhere_cannot_lock_a_leader_out_of_their_office(session):
    record_attempt(session, "州领导", address=OFFICE, now=T0 - timedelta(days=3), ok=True)
    fail(session, "州领导", ELSEWHERE, T0, 200)
    now = T0 + timedelta(minutes=1)
    assert login_wait(session, "州领导", ELSEWHERE, now=now).reason == "pair"
    assert login_wait(session, "州领导", OFFICE, now=now) is None
    # From a third address the name itself is held back: many machines guessing one name.
    assert login_wait(session, "州领导", "198.51.100.7", now=now).reason == "name"
    # An address stops being familiar after `familiar_for` without a login from it.
    later = T0 - timedelta(days=3) + LIMITS.familiar_for + timedelta(minutes=1)
    fail(session, "州领导", ELSEWHERE, later - timedelta(seconds=1), 30)
    assert login_wait(session, "州领导", OFFICE, now=later).reason == "name"


def test_spraying_names_from_one_address_is_slowed_and_the_names_elsewhere_are_not(session):
    for n in range(LIMITS.address_free + 3):
        fail(session, f"用户{n:03d}", ELSEWHERE, T0 + timedelta(milliseconds=10 * n))
    now = T0 + timedelta(seconds=1)
    wait = login_wait(session, "用户999", ELSEWHERE, now=now)
    assert wait is not None and wait.reason == "address" and wait.seconds == 8  # 2 ** 3 from the last, 0.32 s after T0
    assert login_wait(session, "用户001", OFFICE, now=now) is None


def test_under_a_site_wide_attack_unfamiliar_logins_go_one_at_a_time_and_familiar_ones_pass(session):
    record_attempt(session, "李四", address=OFFICE, now=T0 - timedelta(days=1), ok=True)
    for n in range(LIMITS.overall_free + 150):  # every try from a new address, under a new name
        fail(session, f"n{n}", f"192.0.2.{n % 250}-{n}", T0 + timedelta(milliseconds=n))
    soon = T0 + timedelta(seconds=1)
    wait = login_wait(session, "李四", "100.64.0.1", now=soon)
    assert wait is not None and wait.reason == "overall" and wait.seconds <= LIMITS.overall_longest.total_seconds()
    assert login_wait(session, "李四", OFFICE, now=soon) is None
    assert login_wait(session, "李四", "100.64.0.1", now=T0 + LIMITS.overall_window + timedelta(seconds=2)) is None


def test_an_administrator_unlock_clears_a_name_or_an_address(session):
    fail(session, "王五", ELSEWHERE, T0, 12)
    fail(session, "赵六", ELSEWHERE, T0, 12)
    now = T0 + timedelta(seconds=5)
    assert unlock(session, now=now, name="王五") == 12
    assert login_wait(session, "王五", ELSEWHERE, now=now) is None
    assert login_wait(session, "赵六", ELSEWHERE, now=now) is not None
    assert unlock(session, now=now, address=ELSEWHERE) == 12
    assert login_wait(session, "赵六", ELSEWHERE, now=now) is None


class Counting:
    """The real password check, counted: how many ran and how many at once."""

    def __init__(self, real):
        self.real, self.calls, self.running, self.most = real, [], 0, 0
        self.lock = threading.Lock()

    def __call__(self, password_hash, password):
        with self.lock:
            self.calls.append(password_hash)
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            return self.real(password_hash, password)
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture()
def counted(monkeypatch):
    check = Counting(login_edge.password_matches)
    monkeypatch.setattr(login_edge, "password_matches", check)
    return check


def attempts(world, name: str) -> int:
    with unit_of_work(T0, url=world.url) as ctx:
        return ctx.session.scalar(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.name == name, LoginAttempt.ok.is_(False)))


def test_the_page_refuses_early_says_how_long_and_lets_the_user_in_after(app, world, counted):
    client = browser(app)
    for _ in range(5):
        wrong = client.post("/login", data={"name": world.leader, "password": "wrong-one", "csrf": csrf(client)})
        assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.text
    refused = client.post("/login", data={"name": world.leader, "password": PASSWORD, "csrf": csrf(client)})
    assert refused.status_code == 429 and "1 秒后再试" in refused.text and refused.headers["retry-after"] == "1"
    assert len(counted.calls) == 5 and attempts(world, world.leader) == 5  # no hash, nothing recorded
    time.sleep(1.1)
    assert client.post("/login", data={"name": world.leader, "password": PASSWORD, "csrf": csrf(client)},
                       follow_redirects=False).status_code == 303
    login(app, world.verifier)  # another name was never held back


def test_the_throttle_runs_on_the_real_clock_under_a_fixed_as_of(app, world):
    # The app counts figures at 2016-08-23; the attempts are stamped now, so their waits end.
    client = browser(app)
    client.post("/login", data={"name": "无此人", "password": "x" * 8, "csrf": csrf(client)})
    with unit_of_work(T0, url=world.url) as ctx:
        stamped = ctx.session.scalar(select(LoginAttempt.at).where(LoginAttempt.name == "无此人"))
    assert abs((datetime.now(UTC) - stamped).total_seconds()) < 60


def test_an_unknown_name_costs_an_argon2_hash_like_a_known_one(app, world, counted):
    client = browser(app)

    def timed(name: str) -> float:
        started = time.perf_counter()
        assert client.post("/login", data={"name": name, "password": "wrong-pass", "csrf": csrf(client)}
                           ).status_code == 401
        return time.perf_counter() - started

    known = min(timed(world.coordinator) for _ in range(3))
    unknown = min(timed(f"无此人{n}") for n in range(3))
    assert counted.calls[-1] is None and counted.calls[0] is not None
    assert 0.4 < unknown / known < 2.5


def test_a_flood_of_logins_hashes_one_at_a_time_and_the_overflow_is_told_to_retry(world, counted, monkeypatch):
    monkeypatch.setattr(login_edge, "MAX_WAITING", 3)
    with browser(create_app(url=world.url)) as client:  # one event loop for all the requests
        token = csrf(client)
        answers: list[int] = []

        def attempt(n: int) -> None:
            answers.append(client.post("/login", data={"name": f"猜{n}", "password": "guess-123", "csrf": token},
                                       headers={"x-forwarded-for": f"192.0.2.{n}"}).status_code)

        threads = [threading.Thread(target=attempt, args=(n,)) for n in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert counted.most == 1
    assert sorted(set(answers)) == [401, 503] and answers.count(401) == len(counted.calls) >= 4
