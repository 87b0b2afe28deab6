"""The PDF files that prove a task's change: checked, within the upload quotas, stored.

Why a module of its own: a task change stores its files in its own transaction
(`engine.domain.tasks.transition(..., attachments=[...])`), and the task views of
`engine.domain.attachments` find tasks through `engine.domain.tasks`; the file rules stand
below both, so neither imports the other inside a function.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import ValidationFailed
from engine.settings import get_settings
from engine.storage.models import Attachment, Task

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
    # lazy: pypdf loads when a file is checked, not with every task command (start time)
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


__all__ = ["MAX_NAME", "MAX_PDF_OBJECTS", "PDF_MAGIC", "PDF_TYPE", "NewAttachment", "check_pdf",
           "check_quota", "clean_filename", "pdf_structure_problem", "store"]
