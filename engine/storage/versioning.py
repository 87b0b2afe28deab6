"""Optimistic concurrency: the one compare-and-set every versioned row changes through.

Why one helper: tasks and obligation occurrences (and whatever comes next) must never be
overwritten silently; the UPDATE only lands when the version is the one the caller read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.errors import Conflict


def check_version(current: int, expected: int | None, what_vi: str, what_en: str) -> None:
    """Refuse a change made from a version other than the row's (`what_vi`: "Nhiệm vụ 7")."""
    if expected is not None and expected != current:
        raise Conflict(
            f"{what_vi} đã được người khác cập nhật (phiên bản hiện tại {current}, bạn đang "
            f"sửa phiên bản {expected}); hãy tải lại rồi thử lại",
            f"{what_en} changed since you read it (now v{current}, you had v{expected}); "
            "reload and retry",
            field="version",
        )


def compare_and_set(session: Session, model: Any, row_id: int, expected: int,
                    values: dict[str, object]) -> int | None:
    """Bump `model` row `row_id` from `expected` to `expected + 1` with `values`.

    Returns None when it landed, else the row's current version (someone else was first).
    """
    res = session.execute(
        update(model)
        .where(model.id == row_id, model.version == expected)
        .values(version=expected + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount == 1:  # type: ignore[attr-defined]
        return None
    current: int | None = session.scalar(select(model.version).where(model.id == row_id))
    return current
