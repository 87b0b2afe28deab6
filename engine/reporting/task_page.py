"""What a task's page shows besides the task itself — its history, PDFs, evidence documents,
comments, the version the reader last opened and the menu's counts — read ahead in one
statement.

Why: each is a small read, and on PostgreSQL each statement costs the web worker and the
database about 0.1 ms of CPU apiece whatever it reads (issue 13). The page calls
`read_task_page` once it knows the task; the functions it then calls (`history`,
`list_attachments`, `task_documents`, `list_comments`, `mark_seen`, `menu_counts`) find their
rows already read (`engine.storage.together`), so they and what they return are unchanged.
Outside a web request (the CLI) this reads nothing: each function reads for itself.
"""

from __future__ import annotations

from engine.domain.attachments import attachments_read, documents_read
from engine.domain.comments import task_comments_read
from engine.domain.seen import seen_read
from engine.domain.tasks import TaskKey, find_task, history_read
from engine.reporting.menu import menu_reads
from engine.runtime import Runtime
from engine.storage.together import read_together


def read_task_page(rt: Runtime, key: TaskKey, *, seen_by: int | None = None,
                   menu: bool = False) -> None:
    """Read ahead what the page of task `key` (naming its occurrence, see `resolve_key`)
    shows: history, files, documents, comments; for `seen_by` (a user id), the version that
    user last opened (`mark_seen`); with `menu`, the menu's counts of the task's unit
    (`menu_counts`)."""
    with rt.db.read() as session:
        unit, task = find_task(session, key, on=rt.today())
        reads = [history_read(task.id), attachments_read(task.id), documents_read(task.id),
                 task_comments_read(unit.id, task.id)]
        if seen_by is not None:
            reads.append(seen_read(seen_by, task.id))
        if menu:
            reads += menu_reads(rt, unit.id)
        read_together(session, reads)


__all__ = ["read_task_page"]
