"""Reminders through the real channels: aiosmtpd and the loopback Zalo fake, SQLite and PostgreSQL.

Each test is one operator story from issue 10: a bad phone, a spent refresh token and the
re-authorisation, a refused mailbox, a mail server down all day, a Zalo request that hangs
(unknown outcome, not repeated; other sends not held up), every message with its link.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from aiosmtpd.controller import Controller
from conftest import Clock
from reminder_seed import (
    SmtpSink,
    add_person,
    add_task,
    add_unit,
    at,
    free_port,
    occ,
    rows,
)
from typer.testing import CliRunner
from zalo_fake import OA_TRANSACTION_PATH, REFRESH_PATH, ZNS_PATH, FakeZalo

from cli.outbox import outbox_app
from cli.zalo import zalo_app
from engine.reminders import outbox as ob
from engine.reminders.dispatch import (
    STALL_LIMIT,
    RetryPolicy,
    SendLoop,
    close_channels,
    dispatch,
)
from engine.reminders.occurrence import Occurrence
from engine.reminders.sweep import Source, sweep
from engine.reminders.zalo_tokens import SqlTokenStore
from engine.runtime import Runtime
from notifications.base import Channel
from notifications.channels.email import EmailChannel
from notifications.channels.zalo import ZaloChannel
from notifications.settings import SmtpSettings, ZaloSettings

DUE = date(2023, 11, 21)
NOW = "2023-11-14T08:30"
OWNER = "Công chức Tư pháp - Hộ tịch"
APP = "https://cchc.vinhthanh.gov.vn"


@dataclass
class Sink(SmtpSink):
    """The shared SMTP sink, refusing some mailboxes at RCPT and timing each acceptance."""

    refuse: set[str] = field(default_factory=set)
    accepted_at: list[float] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accepted_at.append(time.monotonic())
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def fake() -> Iterator[FakeZalo]:
    with FakeZalo() as server:
        yield server


class World:
    """A commune with Nhi (Zalo first), Sỹ (e-mail first), an admin and the chairman."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.unit = add_unit(rt, leader="Nguyễn Quốc Bảo")
        self.nhi = add_person(rt, self.unit, "Nguyễn Thị Bích Nhi", title=OWNER,
                              email_="nhi@vinhthanh.example.vn", channels=["zalo", "email"],
                              zalo="u-nhi", phone="0905 110 104")
        self.sy = add_person(rt, self.unit, "Nguyễn Văn Sỹ", title=OWNER,
                             email_="sy@vinhthanh.example.vn", channels=["email", "zalo"],
                             zalo="u-sy")
        self.admin = add_person(rt, self.unit, "Trần Thị Mỹ Hạnh", role="admin",
                                email_="admin@vinhthanh.example.vn")
        self.task = add_task(rt, self.unit, "1", DUE, OWNER)

    def queue(self, person: int, channel: str, iso: str = NOW, step: str = "before:7") -> None:
        one = occ(self.unit, person, self.task, due_on=DUE, channel=channel, step=step,
                  owner=OWNER, send_on=at(iso).date())
        payload = {**one.payload, "link": "/units/vinh-thanh/tasks/cchc-2023/1"}
        sweep(self.rt, at(iso), lambda _r, _n: [
            type(one)(one.unit_id, one.person_id, one.channel, one.item_kind, one.item_id,
                      one.due_on, one.step, one.send_on, one.not_before, payload)])


def _source(occs: list[Occurrence]) -> Source:
    return lambda _rt, _now: occs


def channels(rt: Runtime, smtp_port: int, zalo: ZaloSettings) -> dict[str, Channel]:
    return {"email": EmailChannel(SmtpSettings(host="127.0.0.1", port=smtp_port, timeout=5)),
            "zalo": ZaloChannel(zalo, SqlTokenStore(rt.db, zalo))}


def run(rt: Runtime, iso: str, chans: dict[str, Channel], loop: SendLoop,
        **kw: Any) -> Any:
    return dispatch(rt, at(iso), chans, instance="A", loop=loop, app_url=APP, **kw)


def hung_run(rt: Runtime, smtp_port: int, fake: FakeZalo, loop: SendLoop, *, hang: float,
             timeout: float) -> tuple[Any, float]:
    """One dispatch at NOW while every Zalo request hangs `hang` s (client `timeout` s);
    the report and when it started."""
    fake.hang = hang
    chans = channels(rt, smtp_port, fake.settings(timeout=timeout))
    started = time.monotonic()
    try:
        return run(rt, NOW, chans, loop), started
    finally:
        close_channels(chans, loop)


@pytest.fixture
def loop() -> Iterator[SendLoop]:
    send_loop = SendLoop()
    yield send_loop
    send_loop.close()


def _cli(app: typer.Typer, *args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})


# ---------------------------------------------------------------- fallback, links, formats


def test_bad_phone_falls_back_to_email_with_the_link(
        rt: Runtime, sink: tuple[Sink, int], fake: FakeZalo, loop: SendLoop) -> None:
    handler, port = sink
    w = World(rt)
    with rt.db.transaction() as s:  # Nhi has a phone only (no OA follower id)
        from engine.storage.models import Person
        person = s.get(Person, w.nhi)
        assert person is not None
        person.zalo_user_id = None
    w.queue(w.nhi, "zalo")
    chans = channels(rt, port, fake.settings())
    fake.script(ZNS_PATH, -108)
    try:
        report = run(rt, NOW, chans, loop)
    finally:
        close_channels(chans, loop)
    assert (report.fallback, report.sent) == (1, 1)
    [mail] = handler.messages()
    assert mail["To"].addresses[0].addr_spec == "nhi@vinhthanh.example.vn"
    body = mail.get_body(("plain",))
    assert body is not None
    assert f"{APP}/units/vinh-thanh/tasks/cchc-2023/1" in body.get_content()
    zalo_row, email_row = rows(rt)
    assert (zalo_row.state, email_row.state) == ("fallback", "sent")
    assert zalo_row.last_error is not None
    assert zalo_row.last_error.startswith("số điện thoại không hợp lệ với Zalo (Zalo ZNS error")
    # the outbox says where it finally went
    res = _cli(outbox_app, "list", "--db", rt.db.url)
    assert res.exit_code == 0, res.output
    assert "Zalo → Email" in res.output and "Email (thay Zalo)" in res.output


def test_oa_transaction_message_with_the_items_button(
        rt: Runtime, sink: tuple[Sink, int], fake: FakeZalo, loop: SendLoop) -> None:
    _handler, port = sink
    w = World(rt)
    w.queue(w.nhi, "zalo")
    chans = channels(rt, port, fake.settings())
    try:
        assert run(rt, NOW, chans, loop).sent == 1
    finally:
        close_channels(chans, loop)
    (call,) = fake.calls(OA_TRANSACTION_PATH)
    assert call.answer["error"] == 0  # the fake refuses anything but the template format
    payload = call.json["message"]["attachment"]["payload"]
    assert payload["buttons"][0]["payload"]["url"] == f"{APP}/units/vinh-thanh/tasks/cchc-2023/1"
    assert call.headers["access_token"]
    assert rows(rt)[0].provider_message_id == call.answer["data"]["message_id"]


def test_spent_refresh_token_falls_back_alerts_admin_until_authorised(
        rt: Runtime, sink: tuple[Sink, int], fake: FakeZalo, loop: SendLoop,
        monkeypatch: pytest.MonkeyPatch) -> None:
    handler, port = sink
    w = World(rt)
    settings = fake.settings(access_token=None)  # the first use must refresh …
    fake.script(REFRESH_PATH, -14014, times=2)  # … and Zalo says the refresh token is spent
    w.queue(w.nhi, "zalo")
    chans = channels(rt, port, settings)
    try:
        report = run(rt, NOW, chans, loop)
        assert (report.fallback, report.alerts) == (1, 1)
        by_to = {m["To"].addresses[0].addr_spec: m for m in handler.messages()}
        assert set(by_to) == {"nhi@vinhthanh.example.vn", "admin@vinhthanh.example.vn"}
        alert = by_to["admin@vinhthanh.example.vn"]
        assert str(alert["Subject"]).startswith("[CCHC] Cảnh báo: Zalo của hệ thống CCHC")
        alert_body = alert.get_body(("plain",))
        assert alert_body is not None and "cchc zalo authorize" in alert_body.get_content()
        # one alert a day, however many reminders fail meanwhile
        w.queue(w.nhi, "zalo", "2023-11-14T10:00", step="before:6")
        assert run(rt, "2023-11-14T10:00", chans, loop).alerts == 0
        assert len(handler.messages()) == 3

        # the admin re-authorises with the code of the OA permission page
        monkeypatch.setenv("CCHC_ZALO_APP_ID", settings.app_id or "")
        monkeypatch.setenv("CCHC_ZALO_SECRET_KEY", fake.secret_key)
        monkeypatch.setenv("CCHC_ZALO_OAUTH_BASE", fake.base_url)
        monkeypatch.setenv("CCHC_ZALO_OA_ID", settings.oa_id)
        code = fake.issue_code(verifier="v3rifier")
        res = _cli(zalo_app, "authorize", "--code", code, "--db", rt.db.url)
        assert res.exit_code == 2 and "Zalo không đổi được mã cấp quyền" in res.output
        fake.issue_code()  # (an unrelated code) — the right one needs its verifier:
        res = _cli(zalo_app, "authorize", "--code", code, "--code-verifier", "v3rifier",
                   "--db", rt.db.url)
        assert res.exit_code == 0, res.output
        assert "Đã lưu cặp mã Zalo mới" in res.output
        assert "fake-at-" not in res.output and "fake-rt-" not in res.output
        w.queue(w.nhi, "zalo", "2023-11-15T08:30", step="before:5")
        assert run(rt, "2023-11-15T08:30", chans, loop).sent == 1
    finally:
        close_channels(chans, loop)
    assert [c.answer["error"] for c in fake.calls(OA_TRANSACTION_PATH)] == [0]


def test_authorize_stores_a_pair_and_status_never_prints_tokens(
        rt: Runtime, fake: FakeZalo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCHC_ZALO_OA_ID", "fake-oa")
    res = _cli(zalo_app, "status", "--db", rt.db.url)
    assert res.exit_code == 0 and "Chưa lưu mã Zalo nào" in res.output
    res = _cli(zalo_app, "authorize", "--access-token", "AT-1", "--db", rt.db.url)
    assert res.exit_code == 2 and "--refresh-token" in res.output
    tokens = fake.issue_tokens()
    res = _cli(zalo_app, "authorize", "--access-token", tokens.access_token,
               "--refresh-token", tokens.refresh_token, "--db", rt.db.url)
    assert res.exit_code == 0, res.output
    res = _cli(zalo_app, "status", "--db", rt.db.url)
    assert "phiên bản 1" in res.output and "còn hiệu lực" in res.output
    assert tokens.access_token not in res.output and tokens.refresh_token not in res.output
    stored = SqlTokenStore(rt.db, fake.settings(oa_id="fake-oa")).current()
    assert stored is not None and stored.access_token == tokens.access_token


def test_refused_mailbox_falls_back_to_zalo(
        rt: Runtime, sink: tuple[Sink, int], fake: FakeZalo, loop: SendLoop) -> None:
    handler, port = sink
    handler.refuse.add("sy@vinhthanh.example.vn")
    w = World(rt)
    w.queue(w.sy, "email")
    chans = channels(rt, port, fake.settings())
    try:
        report = run(rt, NOW, chans, loop)
    finally:
        close_channels(chans, loop)
    assert (report.fallback, report.sent) == (1, 1)
    assert handler.messages() == []
    (call,) = fake.calls(OA_TRANSACTION_PATH)
    assert call.json["recipient"] == {"user_id": "u-sy"}
    email_row, zalo_row = rows(rt)
    assert (email_row.state, zalo_row.state) == ("fallback", "sent")
    assert email_row.last_error is not None and "550" in email_row.last_error


def test_mail_server_down_after_the_retries_falls_back_to_zalo(
        rt: Runtime, fake: FakeZalo, loop: SendLoop) -> None:
    w = World(rt)
    w.queue(w.sy, "email")
    chans = channels(rt, free_port(), fake.settings())  # nothing listens there
    policy = RetryPolicy(base=timedelta(seconds=60), max_attempts=3)
    now = at(NOW)
    try:
        for _ in range(3):
            run(rt, now.isoformat()[:19], chans, loop, retry=policy)
            now += timedelta(minutes=5)
    finally:
        close_channels(chans, loop)
    email_row, zalo_row = rows(rt)
    assert (email_row.state, email_row.attempts) == ("fallback", 3)
    assert email_row.last_error is not None
    assert email_row.last_error.startswith("không kết nối được máy chủ, sẽ gửi lại sau (SMTP")
    assert email_row.last_error.endswith("(đã thử 3 lần)")
    assert zalo_row.state == "sent"


# ---------------------------------------------------------------- hangs and unknown outcomes


def test_a_hung_zalo_request_is_unknown_not_repeated_and_holds_nobody_up(
        rt: Runtime, sink: tuple[Sink, int], fake: FakeZalo, loop: SendLoop) -> None:
    handler, port = sink
    w = World(rt)
    others = [add_person(rt, w.unit, f"Cán bộ {i}", title=f"Chức danh {i}",
                         email_=f"cb{i}@vinhthanh.example.vn") for i in range(8)]
    w.queue(w.nhi, "zalo")
    for pid in others:
        w.queue(pid, "email")
    report, started = hung_run(rt, port, fake, loop, hang=3.0, timeout=1.5)
    assert (report.sent, report.unknown) == (8, 1)
    # the e-mails did not wait for the hung Zalo request
    assert max(handler.accepted_at) - started < 1.5
    zalo_row = next(r for r in rows(rt) if r.channel == "zalo")
    assert zalo_row.state == "unknown" and zalo_row.last_error is not None
    assert zalo_row.last_error.startswith("đã gửi yêu cầu nhưng không nhận được trả lời")
    time.sleep(2.0)  # the fake finishes the hung request (accepted late, as Zalo may)
    fake.hang = 0.0
    assert len(fake.calls(OA_TRANSACTION_PATH)) == 1
    # not repeated by later runs …
    chans = channels(rt, port, fake.settings())
    try:
        assert run(rt, "2023-11-14T09:30", chans, loop).claimed == 0
        assert len(fake.calls(OA_TRANSACTION_PATH)) == 1
        # … only when an admin, having asked the recipient, sends it again
        assert ob.retry_failed(rt, at("2023-11-14T09:31"), ids=[zalo_row.id]) == [zalo_row.id]
        assert run(rt, "2023-11-14T09:31", chans, loop).sent == 1
    finally:
        close_channels(chans, loop)
    assert [r.state for r in rows(rt) if r.channel == "zalo"] == ["sent"]
    assert ob.STATE_LABELS["unknown"] == "Không rõ đã đến chưa"


# ---------------------------------------------------------------- lateness: the Tết case


def test_tet_due_date_names_the_real_last_day_and_counts_working_days(rt: Runtime) -> None:
    """Due Saturday 10/02/2024, inside Tết (08–14/02 off): the last day is Thursday 15/02.
    On 15/02 the report is not late (as the report and the web say: done that day is on
    time); on 19/02 it is 2 working days late (16/02, 19/02) — not "9 days"."""
    from reminder_seed import RecordingChannel, add_obligation_due

    from engine.domain.timeliness import Timeliness, days_to_deadline, timeliness

    unit = add_unit(rt)
    nhi = add_person(rt, unit, "Nguyễn Thị Bích Nhi", title=OWNER, email_="nhi@example.vn")
    due = date(2024, 2, 10)
    report = add_obligation_due(rt, unit, "bc-tet", due, OWNER)
    email_ = RecordingChannel()
    for iso, step in (("2024-02-15T08:30", "due"), ("2024-02-19T08:30", "overdue:2")):
        one = occ(unit, nhi, report, due_on=due, kind="obligation", step=step,
                  send_on=at(iso).date(), owner=OWNER)
        sweep(rt, at(iso), _source([one]))
        dispatch(rt, at(iso), {"email": email_}, instance="A", app_url=APP)
    on_day, late = email_.sent
    assert "Hạn: 10/02/2024 (ngày nghỉ; hạn cuối là ngày làm việc 15/02/2024) — đến hạn hôm nay"\
        in on_day.text
    assert on_day.subject.startswith("[CCHC] Hạn hôm nay: 1 việc")
    assert "quá hạn 2 ngày làm việc" in late.text and "quá hạn 9" not in late.text
    assert late.subject.startswith("[CCHC] Quá hạn: 1/1 việc")
    # one definition: the same figures as the timeliness the reports and the web use
    assert days_to_deadline(due, date(2024, 2, 15), rt.calendar) == 0
    assert timeliness(due, date(2024, 2, 15), date(2024, 2, 15), rt.calendar) \
        is Timeliness.DONE_ON_TIME
    assert days_to_deadline(due, date(2024, 2, 19), rt.calendar) == -2


def test_a_channel_that_stopped_answering_is_not_waited_for_digest_after_digest(
        rt: Runtime, sink: tuple[Sink, int], fake: FakeZalo, loop: SendLoop) -> None:
    _handler, port = sink
    w = World(rt)
    people = [add_person(rt, w.unit, f"Cán bộ {i}", title=f"Chức danh {i}",
                         channels=["zalo", "email"], zalo=f"u-{i}",
                         email_=f"cb{i}@vinhthanh.example.vn") for i in range(8)]
    for pid in people:
        w.queue(pid, "zalo")
    report, started = hung_run(rt, port, fake, loop, hang=4.0, timeout=1.0)
    elapsed = time.monotonic() - started
    # four in flight (the channel's bound) time out together — a send or two may start as
    # the first of them end, before the third timeout stops the channel; the rest are not
    # sent into the hang one by one but put back for later
    assert 4 <= report.unknown <= 4 + STALL_LIMIT - 1 and report.sent == 0
    assert report.retried == 8 - report.unknown >= 2
    assert elapsed < 3.5, elapsed
    retried = [r for r in rows(rt) if r.state == "pending"]
    assert len(retried) == report.retried and all(
        r.last_error is not None and "không trả lời" in r.last_error for r in retried)


# ---------------------------------------------------------------- Message-ID per installation


def test_message_ids_differ_between_installations_and_survive_retries(
        rt: Runtime, tmp_path: Path, clock: Clock) -> None:
    """Two databases with the very same rows (a second installation, or a restore) give
    different digest keys — hence Message-IDs; one installation's key is stable."""
    from reminder_seed import RecordingChannel

    from engine.reminders.installation import installation_id
    from engine.runtime import open_runtime

    other = open_runtime(f"sqlite:///{tmp_path / 'second.sqlite3'}", clock=clock)
    try:
        keys = []
        for runtime in (rt, other):
            w = World(runtime)
            w.queue(w.sy, "email")
            email_ = RecordingChannel()
            dispatch(runtime, at(NOW), {"email": email_}, instance="A")
            [row] = rows(runtime)
            assert email_.sent[0].tracking_id == row.message_key
            keys.append((row.id, row.message_key, installation_id(runtime)))
        (id1, key1, inst1), (id2, key2, inst2) = keys
        assert id1 == id2 and inst1 != inst2 and key1 != key2
        assert installation_id(rt) == inst1  # generated once, then read back
        [row] = rows(rt)
        assert ob.message_key_of([row], inst1) == key1  # what a retry would compute
    finally:
        other.db.dispose()
