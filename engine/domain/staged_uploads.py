"""A PDF chosen in a form that was refused for another reason (a wrong document number, a
missing result) is kept for the same login, so the officer does not pick it again: the form
shows "đã giữ tệp …" and the next submit uses it. Checked like any upload
(`attachments.check_pdf`) before it is kept; taken (and deleted) by the submit that uses it;
anything older than a day is purged whenever something is staged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete

from engine.domain.attachment_files import NewAttachment, check_pdf
from engine.errors import NotFound
from engine.runtime import Runtime
from engine.storage.models import StagedUpload

KEEP_FOR = timedelta(days=1)


@dataclass(frozen=True)
class StagedView:
    id: int
    filename: str
    size: int


def stage(rt: Runtime, user_id: int, upload: NewAttachment) -> StagedView:
    """Keep an already checked PDF for `user_id`; returns its id for the form."""
    with rt.db.transaction() as session:
        session.execute(delete(StagedUpload).where(StagedUpload.created_at < rt.now() - KEEP_FOR))
        row = StagedUpload(user_id=user_id, filename=upload.filename, content=upload.content,
                           created_at=rt.now())
        session.add(row)
        session.flush()
        return StagedView(row.id, row.filename, len(row.content))


def peek(rt: Runtime, user_id: int, staged_id: int) -> StagedView | None:
    """The staged file `staged_id` of this user (None if gone or someone else's)."""
    with rt.db.read() as session:
        row = session.get(StagedUpload, staged_id)
        if row is None or row.user_id != user_id:
            return None
        return StagedView(row.id, row.filename, len(row.content))


def load(rt: Runtime, user_id: int, staged_id: int, *, max_bytes: int) -> NewAttachment:
    """The staged PDF as an upload (checked again); refused if gone or someone else's."""
    with rt.db.read() as session:
        row = session.get(StagedUpload, staged_id)
        if row is None or row.user_id != user_id:
            raise NotFound("Tệp đã chọn trước đó không còn; hãy chọn lại tệp PDF",
                           f"staged upload {staged_id} not found", field="file")
        return check_pdf(row.filename, row.content, max_bytes=max_bytes)


def discard(rt: Runtime, user_id: int, staged_id: int) -> None:
    """Drop a staged file once the change that used it is saved."""
    with rt.db.transaction() as session:
        session.execute(delete(StagedUpload).where(StagedUpload.id == staged_id,
                                                   StagedUpload.user_id == user_id))


__all__ = ["KEEP_FOR", "StagedView", "discard", "load", "peek", "stage"]
