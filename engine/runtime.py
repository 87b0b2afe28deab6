"""Everything a command needs, built once: database, workflow machine, calendar, clock.

Why one object: the CLI, the web app and the scheduler each build a `Runtime` and call the same
engine functions with it, so they can never disagree about rules or storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from engine.clock import Clock, local_date, system_clock
from engine.domain.calendar import WorkCalendar
from engine.domain.workflow.machine import WorkflowMachine
from engine.settings import Settings, get_settings
from engine.storage.database import Database
from workflows import load_workflow


@dataclass
class Runtime:
    db: Database
    machine: WorkflowMachine
    calendar: WorkCalendar
    settings: Settings
    clock: Clock = field(default=system_clock)

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return local_date(self.clock())


def open_runtime(
    url: str | None = None,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    settings: Settings | None = None,
    calendar_on_use: bool = False,
) -> Runtime:
    """`calendar_on_use`: read the swaps file when a working day is first computed, not now (a
    short command that computes none skips it; a mistake in it is refused then)."""
    settings = settings or get_settings()
    db = Database(url or settings.database_url)
    if migrate:
        db.upgrade()
    return Runtime(
        db=db,
        machine=WorkflowMachine(load_workflow("task")),
        calendar=WorkCalendar() if calendar_on_use else WorkCalendar().load(),
        settings=settings,
        clock=clock or system_clock,
    )
