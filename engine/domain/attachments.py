"""Evidence of a task: the documents in its history and the PDFs uploaded with its changes.

Why PDFs are checked here and not only in the web form: whatever uploads one (a page, the API,
a script), the file must really be a PDF (it starts with `%PDF-`; a name ending in .pdf proves
nothing) and not larger than the limit, and it is stored in the same transaction as the task
change it proves (`engine.domain.tasks.transition(..., attachments=[...])`), linked to that change's
history row — a refused change leaves no orphan file, a stored file always says which change
it belongs to.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.domain.tasks import Actor, TaskKey, find_task
from engine.errors import NotFound, ValidationFailed
from engine.runtime import Runtime
from engine.storage.models import Attachment, Document, Task, TaskEvidence, TaskHistory

PDF_MAGIC = b"%PDF-"
PDF_TYPE = "application/pdf"
MAX_NAME = 200
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"<>|:*?]+")


@dataclass(frozen=True)
class NewAttachment:
    """A checked upload, ready to store (see `check_pdf`)."""

    filename: str
    content: bytes
    content_type: str = PDF_TYPE

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


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


def _mb(n: int) -> str:
    value = n / (1024 * 1024)
    return f"{value:.0f} MB" if value >= 1 else f"{max(1, round(n / 1024))} KB"


#: Unicode categories never kept in a file name: controls, format characters (bidi overrides
#: such as U+202E that show "gpj.exe" as "exe.jpg", zero-width spaces and joiners, BOM),
#: private use, surrogates, unassigned, line and paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


def _visible(name: str) -> str:
    kept = (" " if unicodedata.category(c) == "Zs" else c for c in name
            if unicodedata.category(c) not in _INVISIBLE)
    return " ".join("".join(kept).split())


def clean_filename(name: str) -> str:
    """The file's own name (no folders), NFC, without control, invisible, bidi or reserved
    characters; other spaces become one plain space."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("", _visible(name)).strip().strip(".")
    if not name:
        return "minh-chung.pdf"
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 \
            else name[:MAX_NAME]
    return name


def check_pdf(filename: str, content: bytes, *, max_bytes: int) -> NewAttachment:
    """Refuse anything but a non-empty PDF of at most `max_bytes` (field `file`)."""
    shown = clean_filename(filename)
    if len(content) > max_bytes:
        raise ValidationFailed(
            f"Tệp '{shown}' quá lớn ({_mb(len(content))}); tối đa {_mb(max_bytes)}",
            f"file '{shown}' is too large ({len(content)} bytes, at most {max_bytes})",
            field="file", value=shown)
    if not content:
        raise ValidationFailed(f"Tệp '{shown}' rỗng", f"file '{shown}' is empty",
                               field="file", value=shown)
    if not content.startswith(PDF_MAGIC):
        raise ValidationFailed(
            f"Tệp '{shown}' không phải tệp PDF; chỉ nhận bản PDF của văn bản minh chứng",
            f"file '{shown}' is not a PDF (it does not start with %PDF-)",
            field="file", value=shown)
    problem = pdf_structure_problem(content)
    if problem is not None:
        vi, en = problem
        raise ValidationFailed(f"Tệp '{shown}' {vi}", f"file '{shown}' {en}", field="file",
                               value=shown)
    return NewAttachment(shown, content)


#: Actions a PDF viewer runs by itself or on a click: scripts and starting programs.
_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/ImportData", "/SubmitForm",
                             "/RichMediaExecute"})
_ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/AA"})
MAX_PDF_OBJECTS = 50_000


def pdf_structure_problem(content: bytes) -> tuple[str, str] | None:
    """None for a PDF that parses (pypdf) and carries no active content; else the reason.

    Refused: a file pypdf cannot read (or its pages), an encrypted one (it cannot be checked
    or printed into the file), JavaScript anywhere (`/JS`, `/JavaScript`, the name tree),
    additional actions (`/AA`), an `/OpenAction` that is an action rather than a page to open
    at, and Launch / ImportData / SubmitForm actions. Every object reachable from the document
    catalogue is visited (also those inside compressed object streams), at most
    `MAX_PDF_OBJECTS` of them.
    """
    import io

    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            return ("có mật khẩu hoặc bị mã hóa; hãy gửi bản PDF không đặt mật khẩu",
                    "is encrypted")
        root = reader.trailer["/Root"].get_object()
        if not isinstance(root, DictionaryObject):
            raise ValueError("no document catalogue")
        if len(reader.pages) == 0:
            return "không có trang nào", "has no pages"
        open_action = root.get("/OpenAction")
        if open_action is not None and isinstance(open_action.get_object(), DictionaryObject):
            return ("có lệnh tự chạy khi mở (OpenAction); hãy in lại ra PDF thường",
                    "has an OpenAction")
        seen: set[tuple[int, int]] = set()
        stack: list[object] = [root]
        visited = 0
        while stack:
            obj = stack.pop()
            if isinstance(obj, IndirectObject):
                ident = (obj.idnum, obj.generation)
                if ident in seen:
                    continue
                seen.add(ident)
                obj = obj.get_object()
            visited += 1
            if visited > MAX_PDF_OBJECTS:
                return "có cấu trúc quá phức tạp để kiểm tra", "is too complex to check"
            if isinstance(obj, DictionaryObject):
                keys = set(obj.keys())
                if keys & _ACTIVE_KEYS:
                    return ("có mã JavaScript hoặc lệnh tự chạy; hãy in lại ra PDF thường",
                            "contains JavaScript or automatic actions")
                if str(obj.get("/S", "")) in _ACTIVE_ACTIONS:
                    return ("có lệnh chạy chương trình hoặc mã JavaScript; hãy in lại ra PDF "
                            "thường", "contains a Launch/JavaScript action")
                stack.extend(v for k, v in obj.items() if k != "/Parent")
            elif isinstance(obj, ArrayObject):
                stack.extend(obj)
    except Exception:
        return ("không đọc được cấu trúc PDF (tệp hỏng hoặc không phải PDF thật)",
                "is not a readable PDF")
    return None


def check_quota(session: Session, task: Task, files: Sequence[NewAttachment],
                uploaded_by: str, at: datetime) -> None:
    """Refuse files that would take the uploader past `upload_quota_user_day_bytes` in the
    last 24 hours, or the task's unit past `upload_quota_unit_bytes` in all (0: no limit)."""
    from datetime import timedelta

    from sqlalchemy import func

    from engine.settings import get_settings

    settings = get_settings()
    adding = sum(f.size for f in files)
    if not adding:
        return
    per_user, per_unit = settings.upload_quota_user_day_bytes, settings.upload_quota_unit_bytes
    if per_user:
        used = session.scalar(select(func.coalesce(func.sum(Attachment.size), 0)).where(
            Attachment.uploaded_by == uploaded_by,
            Attachment.uploaded_at > at - timedelta(days=1))) or 0
        if used + adding > per_user:
            raise ValidationFailed(
                f"Đã vượt hạn mức tải tệp trong 24 giờ của người dùng ({_mb(per_user)}; đã dùng "
                f"{_mb(used)}); hãy thử lại sau hoặc báo quản trị viên",
                f"upload quota per user and day exceeded ({per_user} bytes)", field="file")
    if per_unit:
        used = session.scalar(select(func.coalesce(func.sum(Attachment.size), 0))
                              .join(Task, Task.id == Attachment.task_id)
                              .where(Task.unit_id == task.unit_id)) or 0
        if used + adding > per_unit:
            raise ValidationFailed(
                f"Đơn vị đã dùng hết dung lượng lưu tệp minh chứng ({_mb(per_unit)}); hãy báo "
                "quản trị viên", f"upload quota of the unit exceeded ({per_unit} bytes)",
                field="file")


def store(session: Session, task: Task, history_id: int | None,
          files: Sequence[NewAttachment], uploaded_by: str, at: datetime) -> list[Attachment]:
    """Add the files to `task` inside the caller's transaction (linked to history row
    `history_id`), within the upload quotas (`check_quota`)."""
    check_quota(session, task, files, uploaded_by, at)
    rows = []
    for f in files:
        row = Attachment(task_id=task.id, history_id=history_id,
                         filename=f.filename, content_type=f.content_type, size=f.size,
                         sha256=f.sha256, content=f.content, uploaded_by=uploaded_by,
                         uploaded_at=at)
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


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


def list_attachments(rt: Runtime, key: TaskKey) -> list[AttachmentView]:
    """The task's PDFs, oldest first (without their content)."""
    with rt.db.read() as session:
        _unit, task = find_task(session, key)
        rows = session.execute(
            select(Attachment.id, Attachment.filename, Attachment.content_type, Attachment.size,
                   Attachment.sha256, Attachment.uploaded_by, Attachment.uploaded_at,
                   TaskHistory.seq)
            .outerjoin(TaskHistory, TaskHistory.id == Attachment.history_id)
            .where(Attachment.task_id == task.id).order_by(Attachment.id)).all()
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
        rows = session.execute(
            select(Document.rendered, Document.type_code, Document.issued_on, TaskHistory.seq)
            .join(TaskEvidence, TaskEvidence.document_id == Document.id)
            .outerjoin(TaskHistory, TaskHistory.id == TaskEvidence.history_id)
            .where(TaskEvidence.task_id == task.id)
            .order_by(Document.issued_on, Document.id)).all()
        return [EvidenceDocument(*r) for r in rows]


__all__ = [
    "PDF_MAGIC",
    "PDF_TYPE",
    "AttachmentView",
    "EvidenceDocument",
    "NewAttachment",
    "add_attachment",
    "check_pdf",
    "clean_filename",
    "get_attachment",
    "list_attachments",
    "store",
    "task_documents",
]
