"""Remarks the commune sees: a leader's instruction on a task ("ý kiến chỉ đạo") and the
reviewing body's comment on a task or on a period's report.

Why not the task's note: the note is the officer's progress text and is printed in the
report's "Kết quả" column; an instruction or a reviewer's remark must never end up in the
report. A comment is written once and never changed (like history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select

from engine.directory.units import get_unit
from engine.domain.free_text import check_dates
from engine.domain.tasks import TaskKey, find_task
from engine.errors import Forbidden, ValidationFailed
from engine.runtime import Runtime
from engine.storage.models import Comment
from engine.storage.together import Read, scoped_rows
from vntext.text import nfc

#: Who writes which kind: a leader instructs their commune, the reviewing body reviews.
KIND_ROLES = {"instruction": frozenset({"leader", "admin"}),
              "review": frozenset({"reviewer", "admin"})}
KIND_LABELS = {"instruction": "Ý kiến chỉ đạo", "review": "Ý kiến của cơ quan thẩm định"}
MAX_LENGTH = 4000


@dataclass(frozen=True)
class CommentView:
    id: int
    kind: str
    kind_label: str
    author: str
    author_unit: str
    body: str
    at: datetime
    task: str | None  # plan/code
    period: str | None


def add_comment(rt: Runtime, unit: str, body: str, *, kind: str, author: str, role: str,
                author_unit: str, task: TaskKey | None = None,
                period: str | None = None) -> CommentView:
    """Write a comment on a task or a period of `unit` (exactly one of them)."""
    if kind not in KIND_ROLES:
        raise ValidationFailed(f"Không có loại ý kiến '{kind}'", f"unknown kind '{kind}'",
                               field="kind", value=kind)
    if role not in KIND_ROLES[kind]:
        raise Forbidden(f"Vai trò này không được ghi {KIND_LABELS[kind].lower()}",
                        f"role '{role}' may not write a '{kind}' comment", field="role")
    body = nfc(body)
    if not body:
        raise ValidationFailed("Phải ghi nội dung ý kiến", "the comment is empty",
                               field="body")
    if len(body) > MAX_LENGTH:
        raise ValidationFailed(f"Ý kiến dài quá {MAX_LENGTH} ký tự ({len(body)})",
                               "the comment is too long", field="body")
    check_dates(body, "body")
    if (task is None) == (period is None):
        raise ValidationFailed("Ý kiến phải gắn với một nhiệm vụ hoặc một kỳ báo cáo",
                               "a comment needs a task or a period", field="task")
    with rt.db.transaction() as session:
        if task is not None:
            u, t = find_task(session, task)
            task_id: int | None = t.id
        else:
            u, task_id = get_unit(session, unit), None
        row = Comment(unit_id=u.id, task_id=task_id, period=period, kind=kind, author=author,
                      author_unit=author_unit, body=body, at=rt.now())
        session.add(row)
        session.flush()
        return CommentView(row.id, kind, KIND_LABELS[kind], author, author_unit, body, row.at,
                           f"{task.plan}/{task.code}" if task else None, period)


def _comments_query(task: bool, period: bool) -> Select[*tuple[Any, ...]]:
    q = (select(Comment.id, Comment.kind, Comment.author, Comment.author_unit, Comment.body,
                Comment.at, Comment.period)
         .where(Comment.unit_id == bindparam("unit"))
         .order_by(Comment.at.desc(), Comment.id.desc()))
    if task:
        q = q.where(Comment.task_id == bindparam("task"))
    elif period:
        q = q.where(Comment.period == bindparam("period"))
    return q


#: `list_comments`' statement per filter (a task, a period, neither), built once.
_COMMENTS = {(t, p): _comments_query(t, p) for t in (False, True) for p in (False, True)}


def task_comments_read(unit_id: int, task_id: int) -> Read:
    """`list_comments`' statement and parameters for one task (`engine.storage.together`)."""
    return _COMMENTS[True, False], {"unit": unit_id, "task": task_id}


def list_comments(rt: Runtime, unit: str, *, task: TaskKey | None = None,
                  period: str | None = None) -> list[CommentView]:
    """The comments on one task, or on one period's report, newest first."""
    with rt.db.read() as session:
        u = get_unit(session, unit)
        label = None
        if task is not None:
            _u, t = find_task(session, task)
            stmt, params = task_comments_read(u.id, t.id)
            label = f"{task.plan}/{task.code}"
        else:
            stmt = _COMMENTS[False, period is not None]
            params = {"unit": u.id} if period is None else {"unit": u.id, "period": period}
        rows = scoped_rows(session, stmt, params)
        return [CommentView(id_, kind, KIND_LABELS.get(kind, kind), author, author_unit, body,
                            at, label, period_)
                for id_, kind, author, author_unit, body, at, period_ in rows]


__all__ = ["KIND_LABELS", "KIND_ROLES", "CommentView", "add_comment", "list_comments"]
