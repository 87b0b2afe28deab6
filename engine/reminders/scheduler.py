"""The long-running reminder process: sweep and dispatch every minute, freeze quarters on time.

Why only three fixed jobs (and no job per reminder): APScheduler here is just a metronome. Its
jobs live in memory (MemoryJobStore), have fixed ids, `coalesce=True` (a late tick runs once,
not once per missed minute) and `max_instances=1` (a slow dispatch is never overlapped by the
next one). Everything that must survive a restart is in the database, so any number of
processes may run on one PostgreSQL database: the outbox key and the row leases make each
reminder go out once.

Quarter end: hourly at :50 the `quarter_end` job freezes and exports the quarter of every unit
whose cut-off day is over (from 23:50 on the cut-off day, catching up for a week after an
outage), then queues an e-mail notice to the unit's leader (an outbox row of kind "snapshot",
sent in the next sending window with the leader's other reminders) listing the exported files.
"""

from __future__ import annotations

import calendar
import logging
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, Final

from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.jobstores.memory import MemoryJobStore  # type: ignore[import-untyped]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]
from sqlalchemy import select

from engine.clock import VN_TZ, fixed_clock, local_date, system_clock
from engine.directory.people import first_channel, unit_leader
from engine.domain.periods import ReportingPeriod, period_containing
from engine.errors import CchcError, DataFileError, ValidationFailed
from engine.reminders import outbox as ob
from engine.reminders.dispatch import (
    DispatchReport,
    SendLoop,
    close_channels,
    default_instance,
    dispatch,
)
from engine.reminders.rules import load_reminder_rules
from engine.reminders.sweep import Source, sweep
from engine.reminders.zalo_tokens import SqlTokenStore
from engine.reporting.quarter_end import snapshot_and_export
from engine.runtime import Runtime
from engine.storage.models import Person, Snapshot, Unit, UnitPlan
from notifications.base import Channel
from notifications.channels.email import EmailChannel
from notifications.channels.zalo import ZaloChannel
from notifications.settings import DEMO_BASE_URL, LinkSettings, SmtpSettings, ZaloSettings
from notifications.zalo.tokens import MemoryTokenStore, TokenStore

log = logging.getLogger(__name__)

JOB_SWEEP: Final = "cchc.reminders.sweep"
JOB_DISPATCH: Final = "cchc.reminders.dispatch"
JOB_QUARTER_END: Final = "cchc.reports.quarter_end"

QUARTER_CLOSE_AT: Final = time(23, 50)  # the cut-off day's data is complete by then
QUARTER_CATCH_UP: Final = timedelta(days=7)
SNAPSHOT_TAKEN_BY: Final = "hệ thống (tự động chốt cuối kỳ)"


# ---------------------------------------------------------------- links


def reminder_base_url(*, demo: bool = False, settings: LinkSettings | None = None) -> str:
    """The base of every link in a reminder: `CCHC_WEB_BASE_URL`, required outside demo mode.

    Without it a reminder cannot say where to act (and a ZNS template with a URL parameter
    refuses an empty one), so the scheduler does not start; demo mode links to the local app.
    """
    try:
        url = (settings or LinkSettings()).base_url
    except ValueError as exc:
        raise ValidationFailed(
            f"CCHC_WEB_BASE_URL không hợp lệ: {exc}", f"CCHC_WEB_BASE_URL is invalid: {exc}",
            field="CCHC_WEB_BASE_URL") from None
    if url:
        return url
    if demo:
        return DEMO_BASE_URL
    raise ValidationFailed(
        "Chưa đặt CCHC_WEB_BASE_URL (địa chỉ trang web CCHC, ví dụ https://cchc.vinhthanh.gov.vn)"
        ": thiếu nó thì lời nhắc không có đường dẫn đến việc cần làm. Đặt biến môi trường này "
        "rồi chạy lại, hoặc dùng --demo để chạy thử với http://127.0.0.1:8000.",
        "CCHC_WEB_BASE_URL is not set: reminders would carry no link; set it or use --demo",
        field="CCHC_WEB_BASE_URL")


# ---------------------------------------------------------------- channels


@dataclass(frozen=True)
class ChannelSettings:
    """Where the channels' settings come from (CCHC_SMTP_*, CCHC_ZALO_* by default)."""

    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    zalo: ZaloSettings = field(default_factory=ZaloSettings)


def build_channels(settings: ChannelSettings | None = None, *,
                   rt: Runtime | None = None) -> dict[str, Channel]:
    """E-mail always; Zalo only when configured (its tokens shared in the database of `rt`)."""
    settings = settings or ChannelSettings()
    channels: dict[str, Channel] = {"email": EmailChannel(settings.smtp, clock=system_clock)}
    if settings.zalo.configured:
        store: TokenStore
        if rt is not None:
            store = SqlTokenStore(rt.db, settings.zalo)
        else:
            store = MemoryTokenStore(settings.zalo)
        channels["zalo"] = ZaloChannel(settings.zalo, store)
    return channels


# ---------------------------------------------------------------- one tick


@dataclass
class RunOnceReport:
    now: datetime
    inserted: int
    dispatch: DispatchReport
    snapshots: list[QuarterEndResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(), "inserted": self.inserted,
                "dispatch": self.dispatch.as_dict(),
                "snapshots": [s.as_dict() for s in self.snapshots]}


def run_once(rt: Runtime, now: datetime, channels: Mapping[str, Channel], *,
             instance: str | None = None, source: Source | None = None,
             **dispatch_options: Any) -> RunOnceReport:
    """One sweep and one dispatch at `now`. Running it again at the same `now` sends nothing."""
    instance = instance or default_instance()
    inserted = sweep(rt, now, source, instance=instance)
    report = dispatch(rt, now, channels, instance=instance, **dispatch_options)
    return RunOnceReport(ob.db_time(now), inserted, report)


# ---------------------------------------------------------------- quarter end


@dataclass(frozen=True)
class QuarterEndResult:
    unit: str
    period: str
    content_hash: str | None
    files: tuple[str, ...]
    notice_row: int | None  # the outbox row queued for the leader (None: no leader e-mail)

    def as_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "period": self.period, "content_hash": self.content_hash,
                "files": list(self.files), "notice_row": self.notice_row}


def closing_quarter(day: date, now: datetime, cutoff_day: int) -> ReportingPeriod | None:
    """The quarter to freeze at `now`: its cut-off is over, and at most a week ago."""
    for back in range(QUARTER_CATCH_UP.days + 1):
        end = day - timedelta(days=back)
        if end.month % 3 or end.day != min(cutoff_day,
                                           calendar.monthrange(end.year, end.month)[1]):
            continue
        if ob.db_time(now) < datetime.combine(end, QUARTER_CLOSE_AT, tzinfo=VN_TZ):
            return None
        return period_containing(end, "quarter", cutoff_day)
    return None


def units_to_freeze(rt: Runtime, now: datetime) -> list[tuple[Unit, ReportingPeriod]]:
    """Units with plans whose current quarter just closed and is not frozen yet."""
    day = local_date(now)
    out: list[tuple[Unit, ReportingPeriod]] = []
    if day.month % 3 and day.day > QUARTER_CATCH_UP.days:
        return out  # no quarter closed within the last week: no query at all
    with rt.db.read() as session:
        units = {u.id: u for u in session.scalars(select(Unit))}
        with_plans = set(session.scalars(select(UnitPlan.unit_id).distinct()))
        frozen = {(uid, code) for uid, code in session.execute(
            select(Snapshot.unit_id, Snapshot.period))}
        session.expunge_all()
    for unit in sorted((units[i] for i in with_plans if i in units), key=lambda u: u.slug):
        period = closing_quarter(day, now, _cutoff(unit, units, rt.settings.report_cutoff_day))
        if period is not None and (unit.id, period.code) not in frozen:
            out.append((unit, period))
    return out


def _cutoff(unit: Unit, units: Mapping[int, Unit], default: int) -> int:
    """The unit's cut-off day, else its parent's (city, province), else the national one."""
    current: Unit | None = unit
    while current is not None:
        if current.report_cutoff_day is not None:
            return current.report_cutoff_day
        current = units.get(current.parent_id) if current.parent_id else None
    return default


def _leader(rt: Runtime, unit: Unit) -> tuple[Person, str] | None:
    """The unit's leader and the channel for the notice (e-mail, which can list the files)."""
    with rt.db.read() as session:
        leader = unit_leader(session, unit.id)
        if leader is not None:
            session.expunge(leader)
    if leader is None:
        return None
    channel = "email" if leader.email else first_channel(leader)
    return (leader, channel) if channel else None


def queue_snapshot_notice(rt: Runtime, now: datetime, unit: Unit, period: ReportingPeriod,
                          files: list[Path]) -> int | None:
    """An outbox row telling the leader the quarter is frozen and where its files are."""
    found = _leader(rt, unit)
    if found is None:
        log.warning("quarter end %s %s: the unit has no reachable leader",
                    unit.slug, period.code)
        return None
    leader, channel = found

    send_on = rt.calendar.next_working_day(local_date(now) + timedelta(days=1))
    not_before = datetime.combine(send_on, load_reminder_rules().send_at, tzinfo=VN_TZ)
    with ob.write_transaction(rt) as session:
        snap_id = session.scalar(select(Snapshot.id).where(
            Snapshot.unit_id == unit.id, Snapshot.period == period.code))
        if snap_id is None:
            return None
        values = ob.new_row_values(
            key=f"p{leader.id}:snapshot{snap_id}:{period.end.isoformat()}:snapshot:{channel}",
            unit_id=unit.id, person_id=leader.id, channel=channel, item_kind="snapshot",
            item_id=snap_id, due_on=send_on, step="snapshot", send_on=send_on,
            not_before=not_before, now=now,
            payload={
                "title": (f"Báo cáo CCHC {period.label_vi} ({period.range_vi.lower()}): số liệu "
                          "đã chốt, phụ lục đã xuất, đề nghị xem và ký ban hành"),
                "code": period.code,
                "document": "; ".join(p.name for p in files)
                + (f" (thư mục {files[0].parent})" if files else ""),
                "files": [str(p) for p in files],
            })
        ob.insert_rows(session, [values])
        return session.scalar(select(ob.OUTBOX.c.id).where(
            ob.OUTBOX.c.idempotency_key == values["idempotency_key"]))


def quarter_end(rt: Runtime, now: datetime, *, out_dir: Path) -> list[QuarterEndResult]:
    """Freeze and export every unit whose quarter just closed; queue the leaders' notices.

    Safe with several processes: a unit frozen meanwhile by another one is skipped (the
    snapshot table's unique key decides), and the notice's outbox key is unique.
    """
    rt = replace(rt, clock=fixed_clock(ob.db_time(now)))  # "now" is the job's clock
    results: list[QuarterEndResult] = []
    failed: list[str] = []
    for unit, period in units_to_freeze(rt, now):
        try:
            res = snapshot_and_export(rt, unit.slug, period.code,
                                      out_dir / period.code / unit.slug, freeze=True,
                                      taken_by=SNAPSHOT_TAKEN_BY)
        except (CchcError, DataFileError) as exc:  # frozen meanwhile, or this unit's bad data
            log.warning("quarter end %s %s skipped: %s", unit.slug, period.code, exc.render())
            failed.append(unit.slug)
            continue
        row = queue_snapshot_notice(rt, now, unit, period, res.files)
        results.append(QuarterEndResult(unit.slug, period.code, res.snapshot.content_hash,
                                        tuple(str(p) for p in res.files), row))
    if failed:
        log.error("quarter end: %d units not exported (the others were): %s", len(failed),
                  ", ".join(failed))
    return results


# ---------------------------------------------------------------- the scheduler


class ReminderService:
    """The three jobs, bound to one runtime, channel set and instance name."""

    def __init__(self, rt: Runtime, channels: Mapping[str, Channel], *,
                 instance: str | None = None, out_dir: Path = Path("out/snapshots"),
                 source: Source | None = None, loop: SendLoop | None = None,
                 dispatch_options: Mapping[str, Any] | None = None,
                 app_url: str = "") -> None:
        self.rt, self.channels = rt, channels
        self.instance = instance or default_instance()
        self.out_dir, self.source = out_dir, source
        self.loop = loop or SendLoop()
        # Each minute's dispatch sends until nothing is due, but starts no new batch after
        # 50 s: a morning backlog drains over consecutive ticks (max_instances=1).
        self.dispatch_options = {"limit": 10_000_000, "batch": 500, "time_budget": 50.0,
                                 "app_url": app_url, **dict(dispatch_options or {})}
        self.last_sweep: int | None = None
        self.last_dispatch: DispatchReport | None = None

    def sweep_job(self) -> None:
        try:
            self.last_sweep = sweep(self.rt, self.rt.now(), self.source, instance=self.instance)
        except Exception:
            log.exception("reminder sweep failed")

    def dispatch_job(self) -> None:
        try:
            self.last_dispatch = dispatch(self.rt, self.rt.now(), self.channels,
                                          instance=self.instance, loop=self.loop,
                                          **self.dispatch_options)
        except Exception:
            log.exception("reminder dispatch failed")

    def quarter_end_job(self) -> None:
        try:
            quarter_end(self.rt, self.rt.now(), out_dir=self.out_dir)
        except Exception:
            log.exception("quarter-end snapshot failed")

    def close(self) -> None:
        close_channels(self.channels, self.loop)
        self.loop.close()


def make_scheduler(service: ReminderService) -> BackgroundScheduler:
    """A BackgroundScheduler (Asia/Ho_Chi_Minh, in-memory jobs) with the three fixed jobs."""
    scheduler = BackgroundScheduler(
        timezone=VN_TZ,
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=3)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 50},
    )
    start = datetime.now(VN_TZ)
    fixed = {"coalesce": True, "max_instances": 1, "replace_existing": True}
    scheduler.add_job(service.sweep_job, IntervalTrigger(minutes=1, timezone=VN_TZ),
                      id=JOB_SWEEP, name="reminder sweep", next_run_time=start, **fixed)
    scheduler.add_job(service.dispatch_job, IntervalTrigger(minutes=1, timezone=VN_TZ),
                      id=JOB_DISPATCH, name="reminder dispatch",
                      next_run_time=start + timedelta(seconds=5), **fixed)
    scheduler.add_job(service.quarter_end_job, CronTrigger(minute=50, timezone=VN_TZ),
                      id=JOB_QUARTER_END, name="quarter-end snapshot", **fixed)
    return scheduler


def run_scheduler(service: ReminderService, *, stop: threading.Event | None = None,
                  install_signals: bool = True,
                  on_started: Callable[[BackgroundScheduler], None] | None = None) -> None:
    """Run until SIGTERM/SIGINT (or `stop` is set), then shut down cleanly.

    Clean means: no new job starts, running ones finish (`shutdown(wait=True)`), then the
    channels' connections are closed. A job cut short by a hard kill is safe too: its rows
    stay leased and come back when the lease expires.
    """
    stop = stop or threading.Event()
    scheduler = make_scheduler(service)
    previous: dict[signal.Signals, Any] = {}
    if install_signals:
        def _handler(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s: stopping the scheduler", signum)
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, _handler)
    scheduler.start()
    try:
        if on_started:
            on_started(scheduler)
        while not stop.wait(0.5):
            pass
    finally:
        scheduler.shutdown(wait=True)
        service.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


__all__ = [
    "JOB_DISPATCH",
    "JOB_QUARTER_END",
    "JOB_SWEEP",
    "ChannelSettings",
    "QuarterEndResult",
    "ReminderService",
    "RunOnceReport",
    "build_channels",
    "closing_quarter",
    "make_scheduler",
    "quarter_end",
    "queue_snapshot_notice",
    "run_once",
    "run_scheduler",
    "units_to_freeze",
]
