"""The Vĩnh Thạnh demo: rebuild the seed's Q3-2023 report from data and export its appendices.

Why it exists: it is README command 1 — it shows, on the embedded SQLite default, the whole
path an officer's data takes (units → plans → workflow with evidence → snapshot → exports →
reviewer's check), and the check it runs on the seed itself shows the mistakes our engine
makes impossible.

The seed (the paper report, kept outside this repository) is optional input given explicitly
(`cchc demo --seed PATH`; the Makefile passes `../shared/seed/…` when it is there): the demo
never looks for it next to the source tree, and says plainly when it did not check it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from engine import api
from engine.clock import fixed_clock
from engine.directory.demo_accounts import (  # the demo's logins live with the accounts
    DemoAccount,
    create_demo_accounts,
)
from engine.directory.people import load_people_file
from engine.domain.obligations import load_obligations
from engine.reminders.occurrence import Occurrence
from engine.reminders.planner import preview
from engine.reporting.draft import DRAFT_NAME, draft_report
from engine.reporting.replay import ReplayReport, replay
from engine.reporting.snapshot.check import check_report
from engine.reporting.snapshot.findings import Finding, count_vi
from engine.reporting.statistics import import_file
from engine.runtime import Runtime, open_runtime
from plans import DEMO_BUNDLE, ReplayFile, load_model

SEED_NAME = "bao-cao-cchc-quy-III-2023-xa-vinh-thanh.txt"
PLAN_FILES = ["cchc-2023.yaml", "papi-2023.yaml", "kl91-2023.yaml"]
# Phụ lục 4–6 of the seed as the officer would import them (docs/statistics.md layout).
STATISTICS_DIR = DEMO_BUNDLE / "thong-ke-2023-q3"
STATISTICS_FILES = ["phu-luc-4.csv", "phu-luc-5.csv", "phu-luc-6.yaml"]
# The window the demo shows obligation reminders for: the seed's overdue 15/6 report at the
# Q3 cut-off, and the run-up to the 21/11, 06/12 and 15/12 reports.
DEMO_PERIOD = "2023-Q3"
REMINDERS_FROM = date(2023, 11, 1)
REMINDERS_TO = date(2023, 12, 20)


@dataclass(frozen=True)
class SeedCheck:
    """The reviewer's check of the paper report the demo rebuilds — or why it did not run."""

    path: Path | None  # as given (None: not given)
    ran: bool
    findings: list[Finding] = field(default_factory=list)

    @property
    def summary_vi(self) -> str:
        """One line for the officer: what was checked, or plainly that nothing was."""
        if self.ran:
            assert self.path is not None
            return f"Kiểm tra báo cáo gốc ({self.path.name}): {count_vi(self.findings)}."
        if self.path is None:
            return ("Không kiểm tra báo cáo gốc: chưa chỉ định tệp "
                    f"(cchc demo --seed <đường dẫn tới {SEED_NAME}>).")
        return f"Không kiểm tra báo cáo gốc: không tìm thấy tệp {self.path}."

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path) if self.path else None, "ran": self.ran,
                "summary_vi": self.summary_vi}


def check_seed(rt: Runtime, snap: api.SnapshotResult, seed: Path | None) -> SeedCheck:
    """The seed's own mistakes, as a reviewer reads them, if the file given is there."""
    if seed is None or not seed.is_file():
        return SeedCheck(seed, ran=False)
    findings = check_report(rt, snap.snapshot, against=seed)
    return SeedCheck(seed, ran=True, findings=[f for f in findings if f.source == "against"])


@dataclass
class DemoResult:
    database: Path  # the SQLite file (None of it exists when `url` names another database)
    replay: ReplayReport
    snapshot: api.SnapshotResult
    findings: list[Finding]
    seed: SeedCheck
    accounts: list[DemoAccount] = field(default_factory=list)
    reminders: list[Occurrence] = field(default_factory=list)
    url: str = ""  # the database the demo was built in (default: sqlite:///<database>)

    @property
    def database_url(self) -> str:
        return self.url or f"sqlite:///{self.database}"

    @property
    def seed_findings(self) -> list[Finding]:
        return self.seed.findings

    @property
    def own_check_vi(self) -> str:
        """The reviewer's check of the report the demo has just written, in one line."""
        return f"Kiểm tra báo cáo vừa tạo: {count_vi(self.findings)}."

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": str(self.database),
            **self.snapshot.as_dict(),
            "replayed": self.replay.applied,
            "imported_without_evidence": self.replay.imported_without_evidence,
            "findings": [f.as_dict() for f in self.findings],
            "own_check": self.own_check_vi,
            "seed_check": self.seed.as_dict(),
            "seed_findings": [f.as_dict() for f in self.seed_findings],
            "accounts": [{"username": a.username, "password": a.password, "role": a.role,
                          "unit": a.unit, "full_name": a.full_name} for a in self.accounts],
            "obligation_reminders": [
                {"send_on": o.send_on.isoformat(), "person_id": o.person_id,
                 "channel": o.channel, "step": o.step, "due_on": o.due_on.isoformat(),
                 "title": o.payload.get("title", "")} for o in self.reminders],
        }


def build_demo_database(path: Path, progress: Callable[[int, int], None] | None = None,
                        *, url: str | None = None) -> tuple[Runtime, ReplayReport]:
    """A fresh SQLite database with the three plans and the replayed Q3-2023 state (or the
    empty database at `url`, e.g. a PostgreSQL one for the tests)."""
    if url is None:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    data = load_model(ReplayFile, DEMO_BUNDLE / "replay-2023-q3.yaml")
    rt = open_runtime(url or f"sqlite:///{path}", clock=fixed_clock(data.recorded_at))
    api.load_units_file(rt, DEMO_BUNDLE / "units.yaml")
    api.load_plans(rt, [data.unit], [DEMO_BUNDLE / f for f in PLAN_FILES])
    load_people_file(rt, DEMO_BUNDLE / "people.yaml")
    load_obligations(rt, data.unit, DEMO_BUNDLE / "obligations-2023.yaml")
    report = replay(rt, data, progress)
    for name in STATISTICS_FILES:
        import_file(rt, data.unit, DEMO_PERIOD, STATISTICS_DIR / name, "Công chức Văn phòng")
    return rt, report


def obligation_reminders(rt: Runtime, unit: str, start: date, end: date) -> list[Occurrence]:
    """The reminders the unit's sub-report obligations produce day by day over [start, end]."""
    out: list[Occurrence] = []
    day = start
    while day <= end:
        out.extend(o for o in preview(rt, day, unit) if o.item_kind == "obligation")
        day += timedelta(days=1)
    return out


def run_demo(out: Path, progress: Callable[[int, int], None] | None = None, *,
             seed: Path | None = None, url: str | None = None) -> DemoResult:
    """Rebuild the Q3-2023 report into `out`; check it, and the paper report `seed` if given.
    `url`: an empty database to build in instead of `out`/cchc-demo.sqlite3."""
    out.mkdir(parents=True, exist_ok=True)
    database = out / "cchc-demo.sqlite3"
    rt, report = build_demo_database(database, progress, url=url)
    try:
        result = api.snapshot_and_export(rt, "vinh-thanh", DEMO_PERIOD, out, freeze=True,
                                         taken_by="Chủ tịch UBND xã Vĩnh Thạnh")
        (out / DRAFT_NAME).write_bytes(draft_report(rt, result.snapshot))
        findings = check_report(rt, result.snapshot)
        seed_check = check_seed(rt, result, seed)
        logins = create_demo_accounts(rt)
        reminders = obligation_reminders(rt, "vinh-thanh", REMINDERS_FROM, REMINDERS_TO)
    finally:
        rt.db.dispose()
    return DemoResult(database, report, result, findings, seed_check, logins, reminders,
                      url or "")
