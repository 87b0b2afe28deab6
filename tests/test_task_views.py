"""A list's task views (built a row at a time without the dataclass's __init__, for speed)
are the views `TaskView(...)` makes: every field, equal, same hash, still frozen."""

from __future__ import annotations

import dataclasses

import pytest
from web_client import (  # noqa: F401 - the *_fixture names register the demo fixtures
    cheap_hashes_fixture,
    demo_db_fixture,
    demo_rt_fixture,
    pg_demo_rt_fixture,
)

from engine import api
from engine.domain.tasks import TaskKey, TaskView
from engine.runtime import Runtime


def test_list_views_are_the_dataclass_s(rt: Runtime) -> None:
    check_the_views(rt)


def test_list_views_are_the_dataclass_s_on_postgresql(pg_demo_rt: Runtime) -> None:
    """The same on PostgreSQL, where the list's rows are the driver's own tuples."""
    check_the_views(pg_demo_rt)


def check_the_views(rt: Runtime) -> None:
    views = api.list_tasks(rt, "vinh-thanh", earlier=True)
    assert len(views) > 100 and any(v.occurrence for v in views)
    names = {f.name for f in dataclasses.fields(TaskView)}
    for v in views:
        assert type(v) is TaskView
        assert set(vars(v)) == names  # a field added later is never left out
        one = api.get_task(rt, TaskKey(v.unit, v.plan, v.code, v.occurrence or None))
        assert one == v and hash(one) == hash(v) and repr(one) == repr(v)
        assert dataclasses.replace(v) == v
    with pytest.raises(dataclasses.FrozenInstanceError):
        views[0].state = "done"  # type: ignore[misc]
