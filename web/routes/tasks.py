"""A commune's tasks: the list (filters, diacritic-free search) and one task (its history and
the forms for what this user may do in its state).

Every change goes through `engine.api` with the task's `version` read by the page, so a change
made by someone else in between is refused with the Conflict message instead of overwritten.
A refused form is shown again with the reason next to its field and what was typed kept
(status 400/409); nothing is saved. A saved change redirects (303) back to the task with a
one-line message (`?ok=<event>`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from engine import api, directory, domain, reporting
from engine.directory import COMMUNE_ROLES, UserView, list_people
from engine.domain import CORRECTING_ROLES, TaskKey, check_command
from engine.errors import Conflict, NotFound, Problem, TransitionNotAllowed, ValidationFailed
from engine.runtime import Runtime
from web import lists
from web.deps import CurrentUser, Rt, Settings
from web.downloads import content_disposition
from web.routes.common import FormErrors, parse_date_vi, status_of
from web.templating import menu_unit, render, timeliness_label

router = APIRouter()

#: Events that are not workflow triggers, as the history shows them.
EVENT_LABELS = {
    "assign": "Phân công",
    "set_deadline": "Đặt thời hạn",
    "note": "Ghi nhận tiến độ",
}
#: The message after a saved change (`?ok=`); a trigger's is built from its label.
OK_MESSAGES = {
    "assign": "Đã phân công người phụ trách",
    "deadline": "Đã đặt thời hạn",
    "note": "Đã ghi nhận tiến độ",
    "comment": "Đã ghi ý kiến; đơn vị sẽ thấy ý kiến này trên trang nhiệm vụ",
}
FormFields = set[str]
#: A change refused because someone saved the task in between: the page shows their change
#: (history) and the form again with what was typed, ready to send once more.
CONFLICT_MESSAGE = ("Chưa lưu: trong lúc bạn nhập, nhiệm vụ này vừa được người khác cập nhật "
                    "(xem phần Lịch sử cập nhật). Nội dung bạn nhập vẫn còn nguyên trong biểu "
                    "mẫu bên dưới; hãy xem lại rồi bấm lưu một lần nữa.")


def task_url(key: TaskKey) -> str:
    """The task page; one occurrence of recurring work is "…/7~2026-Q1" (`TaskKey.path_code`)."""
    return f"/units/{key.unit}/tasks/{key.plan}/{key.path_code}"


@dataclass(frozen=True)
class ActionForm:
    """One workflow button of the task page and the fields its form asks for."""

    trigger: str
    label: str
    completes: bool  # lands in the done state: evidence, result, date, PDF
    note_required: bool
    note_label: str

    @property
    def fields(self) -> FormFields:
        return {"docs", "result", "on", "file"} if self.completes else {"note"}


def action_forms(rt: Runtime, user: UserView, unit: str, state: str) -> list[ActionForm]:
    out = []
    for trigger in directory.allowed_triggers(rt, user, unit, state):
        t = rt.machine.definition.transition(trigger)
        if t is None:
            continue
        completes = rt.machine.is_done(t.dest)
        note_required = "has_note" in t.guards
        label = "Lý do" if trigger == "reopen" else (
            "Nội dung, lý do" if note_required else "Ghi chú (không bắt buộc)")
        out.append(ActionForm(trigger, t.label, completes, note_required, label))
    return out


def event_label(rt: Runtime, event: str) -> str:
    if event in EVENT_LABELS:
        return EVENT_LABELS[event]
    t = rt.machine.definition.transition(event)
    return t.label if t is not None else event


# ---------------------------------------------------------------- the list


def _opt(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


#: "Xuất Excel" of the task list: the columns after STT.
EXPORT_COLUMNS = ["Phụ lục", "Số", "Nội dung", "Phụ trách", "Thời hạn", "Hạn (ngày)",
                  "Trạng thái", "Đúng hạn / quá hạn", "Kết quả"]
#: The list's orders: appendix order (the report's) or the order work is done in.
SORTS = {"phu-luc": "Theo thứ tự phụ lục", "han": "Việc cần làm trước (quá hạn, gần hạn)"}


@router.get("/units/{unit}/tasks", include_in_schema=False)
def task_list(request: Request, unit: str, rt: Rt, user: CurrentUser,
              plan: str | None = None, section: str | None = None, state: str | None = None,
              owner: str | None = None, overdue: bool = False, mine: bool = False,
              q: str | None = None, done: bool = False, sort: str | None = None,
              person_id: int | None = None, unassigned: bool = False,
              trang: str | None = None) -> Response:
    """The commune's tasks. `mine=1` ("Việc của tôi") lists the user's open tasks — the
    dashboard's count — and `done=1` adds the finished ones after them; `sort=han` (the
    default for "mine") puts overdue first, then by due date. Paged (`trang`), `xuat=xlsx`
    exports every row the filters keep."""
    directory.require_read(rt, user, unit)
    plan, section, state, owner, q = map(_opt, (plan, section, state, owner, q))
    if section and "|" in section:  # "cchc-2023|II" from the grouped picker
        plan, section = section.split("|", 1)
    listed = api.list_tasks(rt, unit, earlier=True)  # the overdue filter: recurring work's
    all_tasks = api.in_force(listed)  # earlier occurrences too; otherwise one row per task
    tasks = api.filter_tasks(listed, plan=plan, section=section, state=state, owner=owner,
                             overdue=overdue, search=q)
    person = reporting.person_of(rt, user) if user.unit_slug == unit else None
    mine = mine and person is not None
    if mine and person is not None:
        tasks = reporting.owned_by(rt, tasks, person, open_only=not done)
    chosen = None
    if person_id is not None:  # a row of "who is behind"
        chosen = next((p for p in list_people(rt, unit) if p.id == person_id), None)
        if chosen is None:
            raise NotFound(f"Không có cán bộ số {person_id} trong đơn vị này",
                           f"person {person_id} not in unit '{unit}'", field="person_id")
        tasks = reporting.owned_by(rt, tasks, chosen, open_only=False)
    if unassigned:
        tasks = [t for t in tasks if not t.owner]
    sort = sort if sort in SORTS else ("han" if mine else "phu-luc")
    if sort == "han":
        tasks = reporting.work_order(rt, tasks)
    plans = reporting.unit_plans(rt, unit)
    appendix = {p.id: p.appendix_number for p in plans}
    if lists.wants_xlsx(request):
        return lists.xlsx_response("Nhiệm vụ", EXPORT_COLUMNS, [
            [f"Phụ lục {appendix.get(t.plan, '')}", t.code, t.text, t.owner, t.deadline,
             t.due_on, t.state_label, timeliness_label(t.timeliness), t.result]
            for t in tasks], f"nhiem-vu_{unit}")
    sections: dict[str, list[reporting.SectionView]] = {}  # the picker's, per plan
    for s in reporting.plan_sections(rt, plans=[p.id for p in plans]):
        sections.setdefault(s.plan, []).append(s)
    owners = sorted({t.owner for t in all_tasks if t.owner})
    news = domain.flagged_tasks(rt, user.id, user.full_name, unit) if mine else {}
    states = [(s.name, s.label) for s in rt.machine.definition.states]
    return render(request, "tasks.html", {
        "title": "Việc của tôi" if mine else "Nhiệm vụ",
        "nav_path": "/my-tasks" if mine else "/tasks", "unit": reporting.unit_view(rt, unit),
        "page": lists.paginate(tasks, trang), "total": len(all_tasks), "plans": plans,
        "appendix": appendix, "sections": sections, "owners": owners, "states": states,
        "person": person, "sorts": SORTS, "chosen": chosen, "news": news,
        "filters": {"plan": plan or "", "section": section or "", "state": state or "",
                    "owner": owner or "", "overdue": overdue, "mine": mine, "q": q or "",
                    "done": done, "sort": sort, "person_id": person_id or "",
                    "unassigned": unassigned},
        "filtered": any((plan, section, state, owner, overdue, q, chosen, unassigned)),
        "more_filters": any((plan, section, state, owner)),
    })


# ---------------------------------------------------------------- one task


def task_page(request: Request, rt: Runtime, user: UserView, key: TaskKey, *,
              status_code: int = 200, form: dict[str, Any] | None = None,
              errors: FormErrors | None = None, ok: str | None = None,
              open_form: str | None = None, seen_by: int | None = None) -> Response:
    """The page of task `key`; `seen_by`: the user whose "version last seen" the caller
    marks next (`mark_seen`), read with the page's other reads."""
    directory.require_read(rt, user, key.unit)
    task = api.get_task(rt, key)
    key = TaskKey(key.unit, key.plan, key.code, task.occurrence or None)
    # history, files, documents, comments, the version last seen, the menu: one statement
    reporting.read_task_page(rt, key, seen_by=seen_by, menu=menu_unit(user) == key.unit)
    history = api.history(rt, key)
    files = domain.list_attachments(rt, key)
    files_by_seq: dict[int | None, list[domain.AttachmentView]] = defaultdict(list)
    for f in files:
        files_by_seq[f.history_seq].append(f)
    plans = {p.id: p for p in reporting.unit_plans(rt, key.unit)}
    can_assign = directory.can(rt, user, "task.assign", key.unit)
    message = None
    if ok:
        t = rt.machine.definition.transition(ok)
        message = OK_MESSAGES.get(ok) or (f"Đã lưu: {t.label}" if t is not None else None)
    return render(request, "task.html", {
        "title": f"Nhiệm vụ {task.code}", "nav_path": "/tasks",
        "unit": reporting.unit_view(rt, key.unit), "task": task, "key": key,
        "url": task_url(key), "plan": plans.get(key.plan),
        "occurrences": api.occurrences_of(rt, key),
        "occurrence_url": lambda o: task_url(TaskKey(key.unit, key.plan, key.code, o)),
        "section": reporting.task_section(rt, key), "history": list(reversed(history)),
        "documents": domain.task_documents(rt, key), "files": files,
        "files_by_seq": files_by_seq, "event_label": lambda e: event_label(rt, e),
        "actions": action_forms(rt, user, key.unit, task.state),
        "can_assign": can_assign,
        "can_deadline": directory.can(rt, user, "task.deadline", key.unit),
        "can_note": directory.can(rt, user, "task.note", key.unit),
        "can_attach": directory.can(rt, user, "task.attach", key.unit),
        "can_correct": user.role in CORRECTING_ROLES,
        "owner_groups": [(g, list(items)) for g, items in groupby(
            reporting.owner_choices(list_people(rt, key.unit)) if can_assign else [],
            key=lambda c: c[0])],
        "comments": domain.list_comments(rt, key.unit, task=key),
        "comment_kind": _comment_kind(rt, user, key.unit),
        "open_form": open_form,
        "form": form or {}, "errors": errors or FormErrors(),
        "messages": [("ok", message)] if message and not errors else [],
    }, status_code=status_code)


@router.get("/units/{unit}/tasks/{plan}/{code}", include_in_schema=False)
def task_detail(request: Request, unit: str, plan: str, code: str, rt: Rt, user: CurrentUser,
                ok: str | None = None, form: str | None = None) -> Response:
    """One task; `?form=complete` opens that form (the quick buttons under the title)."""
    key = api.resolve_key(rt, TaskKey.from_path(unit, plan, code))
    seen_by = user.id if user.role in COMMUNE_ROLES else None
    response = task_page(request, rt, user, key, ok=ok, open_form=form, seen_by=seen_by)
    if seen_by is not None:
        domain.mark_seen(rt, seen_by, key)  # no longer "mới giao" / "mở lại" in their list
    return response


def _comment_kind(rt: Runtime, user: UserView, unit: str) -> str | None:
    """Which comment this user may write on the commune's tasks and reports, if any."""
    if directory.can(rt, user, "task.instruct", unit) and user.role != "admin":
        return "instruction"
    if directory.can(rt, user, "review.comment", unit):
        return "review"
    return None


def add_comment(rt: Runtime, user: UserView, unit: str, body: str, *,
                task: TaskKey | None = None, period: str | None = None) -> None:
    """Write the user's comment (instruction or review) on a task or a period's report."""
    kind = _comment_kind(rt, user, unit)
    if kind is None:
        directory.require(rt, user, "review.comment", unit)  # raises the Vietnamese refusal
        return
    domain.add_comment(rt, unit, body, kind=kind, author=user.full_name, role=user.role,
                         author_unit=user.unit_display or "", task=task, period=period)


@router.post("/units/{unit}/tasks/{plan}/{code}/comment", include_in_schema=False)
def task_comment(request: Request, unit: str, plan: str, code: str, rt: Rt,
                 user: CurrentUser, body: Annotated[str, Form()] = "") -> Response:
    """A leader's instruction or the reviewing body's comment on the task."""
    key = TaskKey.from_path(unit, plan, code)
    try:
        add_comment(rt, user, unit, body, task=key)
    except ValidationFailed as exc:
        return _refused(request, rt, user, key, exc, {"name": "comment", "body": body},
                        {"body"})
    return RedirectResponse(f"{task_url(key)}?ok=comment#comments", status_code=303)


Refusal = (ValidationFailed, Conflict, TransitionNotAllowed)


def _refused(request: Request, rt: Runtime, user: UserView, key: TaskKey,
             exc: ValidationFailed | Conflict | TransitionNotAllowed, form: dict[str, Any],
             shown: FormFields) -> Response:
    errors = FormErrors.of(exc, {"doc": "docs", "owner": "owner"}, shown)
    if isinstance(exc, Conflict) and exc.field == "version":
        # someone else saved first: keep what was typed; the form now carries the new version
        errors = FormErrors(general=[CONFLICT_MESSAGE])
    return task_page(request, rt, user, key, status_code=status_of(exc), form=form,
                     errors=errors)


@router.post("/units/{unit}/tasks/{plan}/{code}/transition", include_in_schema=False)
def task_transition(
    request: Request, unit: str, plan: str, code: str, rt: Rt, user: CurrentUser,
    settings: Settings,
    trigger: Annotated[str, Form()],
    version: Annotated[int, Form()],
    docs: Annotated[str, Form()] = "",
    result: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    on: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
    staged_file: Annotated[int | None, Form()] = None,
    correction: Annotated[str, Form()] = "",
) -> Response:
    """Start / complete (documents, result, date, PDF) / wait / nothing arose / reopen;
    `correction` (leaders): the reason for a step dated inside a frozen period.

    Every wrong field is reported at once. A valid PDF sent with a refused form is kept
    (`staged_uploads`) and offered again as `staged_file`, so it need not be picked again."""
    directory.require_transition(rt, user, unit, trigger)
    key = TaskKey.from_path(unit, plan, code)
    form: dict[str, Any] = {"name": f"transition:{trigger}", "docs": docs, "result": result,
                            "note": note, "on": on, "correction": correction}
    shown = {"docs", "result", "on", "file", "note", "correction"}
    evidence = [line.strip() for line in docs.splitlines() if line.strip()]
    actor = directory.actor_for(user)
    upload: domain.NewAttachment | None = None
    new_upload = False
    try:
        problems: list[Problem] = []
        on_date = _collect(problems, lambda: parse_date_vi(on))
        if file is not None and file.filename:
            directory.require(rt, user, "task.attach", unit)
            content = file.file.read()  # the app's body limit caps it near the file limit
            upload = _collect(problems, lambda: domain.check_pdf(
                file.filename or "", content, max_bytes=settings.max_upload_bytes))
            new_upload = upload is not None
        elif staged_file is not None:
            upload = _collect(problems, lambda: domain.load_staged_upload(
                rt, user.id, staged_file, max_bytes=settings.max_upload_bytes))
        if problems:  # add what the engine would say about the other fields
            n, known = len(problems), {p.field for p in problems}
            _collect(problems, lambda: check_command(rt, trigger, actor, evidence, result,
                                                     note, on_date))
            problems = problems[:n] + [p for p in problems[n:] if p.field not in known]
            raise ValidationFailed(problems[0].message_vi, problems[0].message_en,
                                   problems=problems)
        api.transition(rt, key, trigger, actor, evidence=evidence, result=result, note=note,
                       on=on_date, expected_version=version,
                       attachments=[upload] if upload is not None else [],
                       correction=correction)
    except Refusal as exc:
        if upload is not None:
            form["staged"] = (domain.stage_upload(rt, user.id, upload) if new_upload
                              else domain.peek_staged_upload(rt, user.id, staged_file or 0))
        return _refused(request, rt, user, key, exc, form, shown)
    if staged_file is not None and not new_upload:
        domain.discard_staged_upload(rt, user.id, staged_file)
    return RedirectResponse(f"{task_url(key)}?ok={trigger}", status_code=303)


T = TypeVar("T")


def _collect(problems: list[Problem], check: Callable[[], T]) -> T | None:
    """Run one check; a refusal adds its problems instead of stopping the others."""
    try:
        return check()
    except (ValidationFailed, NotFound) as exc:
        problems.extend(exc.problems)
        return None


@router.post("/units/{unit}/tasks/{plan}/{code}/assign", include_in_schema=False)
def task_assign(request: Request, unit: str, plan: str, code: str, rt: Rt, user: CurrentUser,
                version: Annotated[int, Form()], owner: Annotated[str, Form()] = "") -> Response:
    directory.require(rt, user, "task.assign", unit)
    key = TaskKey.from_path(unit, plan, code)
    try:
        choices = reporting.owner_choices(list_people(rt, unit))
        if owner not in {value for _group, value, _label in choices}:
            raise ValidationFailed(
                "Hãy chọn người phụ trách trong danh sách cán bộ của đơn vị"
                + (f" ('{owner}' không có trong danh sách)" if owner.strip() else ""),
                "the owner must be one of the unit's people", field="owner", value=owner)
        api.assign(rt, key, owner, directory.actor_for(user), expected_version=version)
    except Refusal as exc:
        return _refused(request, rt, user, key, exc, {"name": "assign", "owner": owner},
                        {"owner"})
    return RedirectResponse(f"{task_url(key)}?ok=assign", status_code=303)


@router.post("/units/{unit}/tasks/{plan}/{code}/deadline", include_in_schema=False)
def task_deadline(request: Request, unit: str, plan: str, code: str, rt: Rt,
                  user: CurrentUser, version: Annotated[int, Form()],
                  deadline: Annotated[str, Form()] = "") -> Response:
    directory.require(rt, user, "task.deadline", unit)
    key = TaskKey.from_path(unit, plan, code)
    try:
        api.set_deadline(rt, key, deadline, directory.actor_for(user), expected_version=version)
    except Refusal as exc:
        return _refused(request, rt, user, key, exc, {"name": "deadline", "deadline": deadline},
                        {"deadline"})
    return RedirectResponse(f"{task_url(key)}?ok=deadline", status_code=303)


@router.post("/units/{unit}/tasks/{plan}/{code}/note", include_in_schema=False)
def task_note(request: Request, unit: str, plan: str, code: str, rt: Rt, user: CurrentUser,
              version: Annotated[int, Form()], note: Annotated[str, Form()] = "") -> Response:
    directory.require(rt, user, "task.note", unit)
    key = TaskKey.from_path(unit, plan, code)
    try:
        api.add_note(rt, key, note, directory.actor_for(user), expected_version=version)
    except Refusal as exc:
        return _refused(request, rt, user, key, exc, {"name": "note", "note": note}, {"note"})
    return RedirectResponse(f"{task_url(key)}?ok=note", status_code=303)


@router.get("/units/{unit}/tasks/{plan}/{code}/files/{file_id}", include_in_schema=False)
def task_file(unit: str, plan: str, code: str, file_id: int, rt: Rt,
              user: CurrentUser) -> Response:
    """An uploaded evidence PDF (download)."""
    directory.require(rt, user, "unit.read", unit)
    meta, content = domain.get_attachment(rt, TaskKey.from_path(unit, plan, code), file_id)
    return Response(content, media_type=meta.content_type,
                    headers={"Content-Disposition": content_disposition(meta.filename)})
