"""Evidence of a task: the documents in its history and the PDFs uploaded with its changes.

Why PDFs are checked here and not only in the web form: whatever uploads one (a page, the API,
a script), the file must really be a PDF (it starts with `%PDF-`; a name ending in .pdf proves
nothing) and not larger than the limit, and it is stored in the same transaction as the task
change it proves (`engine.domain.tasks.transition(..., attachments=[...])`), linked to that change's
history row — a refused change leaves no orphan file, a stored file always says which change
it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, select

from engine.domain.attachment_files import NewAttachment, store
from engine.domain.tasks import Actor, TaskKey, find_task
from engine.errors import NotFound
from engine.runtime import Runtime
from engine.storage.models import Attachment, Document, TaskEvidence, TaskHistory
from engine.storage.together import Read, scoped_rows


@dataclass(frozen=True)
class AttachmentView:
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    history_seq: int | None


@dataclass(frozen=True)
class EvidenceDocument:
    """A document registered as the evidence of a task (from the unit's register)."""

    rendered: str
    type_code: str
    issued_on: date
    history_seq: int | None


def add_attachment(rt: Runtime, key: TaskKey, upload: NewAttachment, actor: Actor, *,
                   history_seq: int | None = None) -> AttachmentView:
    """Attach a PDF to a task on its own (to the history entry `history_seq` if given)."""
    with rt.db.transaction() as session:
        _unit, task = find_task(session, key, for_change=True)
        hist = None
        if history_seq is not None:
            hist = session.scalar(select(TaskHistory).where(TaskHistory.task_id == task.id,
                                                            TaskHistory.seq == history_seq))
            if hist is None:
                raise NotFound(f"Nhiệm vụ {key.code} không có lần cập nhật số {history_seq}",
                               f"task {key} has no history entry {history_seq}",
                               field="history", value=str(history_seq))
        row = store(session, task, hist.id if hist else None, [upload], actor.name,
                    rt.now())[0]
        return _view(row, history_seq)


def _view(a: Attachment, seq: int | None) -> AttachmentView:
    return AttachmentView(a.id, a.filename, a.content_type, a.size, a.sha256, a.uploaded_by,
                          a.uploaded_at, seq)


#: The statements of the task page's reads, built once (plain columns, run as Core).
_ATTACHMENTS = (
    select(Attachment.id, Attachment.filename, Attachment.content_type, Attachment.size,
           Attachment.sha256, Attachment.uploaded_by, Attachment.uploaded_at, TaskHistory.seq)
    .outerjoin(TaskHistory, TaskHistory.id == Attachment.history_id)
    .where(Attachment.task_id == bindparam("task")).order_by(Attachment.id))
_DOCUMENTS = (
    select(Document.rendered, Document.type_code, Document.issued_on, TaskHistory.seq)
    .join(TaskEvidence, TaskEvidence.document_id == Document.id)
    .outerjoin(TaskHistory, TaskHistory.id == TaskEvidence.history_id)
    .where(TaskEvidence.task_id == bindparam("task"))
    .order_by(Document.issued_on, Document.id))


def attachments_read(task_id: int) -> Read:
    """`list_attachments`' statement and parameters (`engine.storage.together`)."""
    return _ATTACHMENTS, {"task": task_id}


def documents_read(task_id: int) -> Read:
    """`task_documents`' statement and parameters (`engine.storage.together`)."""
    return _DOCUMENTS, {"task": task_id}


def list_attachments(rt: Runtime, key: TaskKey) -> list[AttachmentView]:
    """The task's PDFs, oldest first (without their content)."""
    with rt.db.read() as session:
        _unit, task = find_task(session, key)
        rows = scoped_rows(session, *attachments_read(task.id))
        return [AttachmentView(*r) for r in rows]


def get_attachment(rt: Runtime, key: TaskKey, attachment_id: int
                   ) -> tuple[AttachmentView, bytes]:
    """One PDF of the task, with its bytes; NotFound if it belongs to another task."""
    with rt.db.read() as session:
        _unit, task = find_task(session, key)
        row = session.scalar(select(Attachment).where(Attachment.id == attachment_id,
                                                      Attachment.task_id == task.id))
        if row is None:
            raise NotFound(f"Nhiệm vụ {key.code} không có tệp đính kèm số {attachment_id}",
                           f"task {key} has no attachment {attachment_id}", field="attachment",
                           value=str(attachment_id))
        seq = (session.scalar(select(TaskHistory.seq).where(TaskHistory.id == row.history_id))
               if row.history_id is not None else None)
        return _view(row, seq), bytes(row.content)


def task_documents(rt: Runtime, key: TaskKey) -> list[EvidenceDocument]:
    """The evidence documents of a task (each once), by date."""
    with rt.db.read() as session:
        _unit, task = find_task(session, key)
        rows = scoped_rows(session, *documents_read(task.id))
        return [EvidenceDocument(*r) for r in rows]


__all__ = [
    "AttachmentView",
    "EvidenceDocument",
    "add_attachment",
    "get_attachment",
    "list_attachments",
    "task_documents",
]
