"""What each login has seen: a task newly assigned to an officer, or reopened, stays flagged
in their "Việc của tôi" until they open it.

A task is flagged for a user when its latest assignment or reopening (history events
`assign`, `reopen`) was made by someone else after the version the user last opened."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from engine.directory.units import get_unit
from engine.domain.tasks import TaskKey, find_task
from engine.runtime import Runtime
from engine.storage.models import Task, TaskHistory, TaskSeen
from engine.storage.together import Read, scoped_rows

#: The history events that make a task news to its owner.
NEWS_EVENTS = ("assign", "reopen")


#: The version of a task a user last opened (built once: asked on every task page).
_SEEN_VERSION = select(TaskSeen.version).where(TaskSeen.user_id == bindparam("user"),
                                               TaskSeen.task_id == bindparam("task"))


def seen_read(user_id: int, task_id: int) -> Read:
    """`mark_seen`'s read: its statement and parameters (`engine.storage.together`)."""
    return _SEEN_VERSION, {"user": user_id, "task": task_id}


def mark_seen(rt: Runtime, user_id: int, key: TaskKey) -> None:
    """The user opened the task at its current version. Read first: a task opened again at
    the version already seen (the usual case) writes nothing and opens no write transaction."""
    with rt.db.read() as session:
        _unit, task = find_task(session, key)
        found = scoped_rows(session, *seen_read(user_id, task.id))
        seen = found[0][0] if found else None
    if seen == task.version:
        return
    with rt.db.transaction() as session:
        _unit, task = find_task(session, key)
        row = session.get(TaskSeen, (user_id, task.id))
        if row is None:
            session.add(TaskSeen(user_id=user_id, task_id=task.id, version=task.version))
        elif row.version != task.version:
            row.version = task.version


_LATEST = (select(TaskHistory.task_id, func.max(TaskHistory.seq).label("seq"))
           .join(Task, Task.id == TaskHistory.task_id)
           .where(Task.unit_id == bindparam("unit"), TaskHistory.event.in_(NEWS_EVENTS),
                  TaskHistory.role != "system")  # not the import of a paper report
           .group_by(TaskHistory.task_id).subquery())
#: `flagged`'s statement, built once: each task's latest news event and the user's last view.
_FLAGGED = (
    select(Task.plan_id, Task.code, TaskHistory.event, TaskHistory.actor, TaskHistory.seq,
           TaskSeen.version)
    .join(_LATEST, _LATEST.c.task_id == Task.id)
    .join(TaskHistory, (TaskHistory.task_id == Task.id) & (TaskHistory.seq == _LATEST.c.seq))
    .outerjoin(TaskSeen, (TaskSeen.task_id == Task.id)
               & (TaskSeen.user_id == bindparam("user"))))


def flagged(rt: Runtime, user_id: int, actor_name: str, unit: str) -> dict[str, str]:
    """`{"plan/code": event}` for the tasks of `unit` assigned or reopened by someone other
    than `actor_name` since `user_id` last opened them."""
    with rt.db.read() as session:
        u = get_unit(session, unit)
        rows = session.connection().execute(_FLAGGED, {"unit": u.id, "user": user_id}).all()
    return {f"{plan}/{code}": event for plan, code, event, actor, seq, seen in rows
            if actor != actor_name and (seen is None or seen < seq)}


__all__ = ["NEWS_EVENTS", "flagged", "mark_seen"]
