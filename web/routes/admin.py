"""Administration pages: the reminder log (outbox) with retry of failed messages; units (list,
add); the people reminders reach (list, add/update) with the web logins; plans (list, upload a
plan YAML for one or more units). Units, people and plans are checked with
`directory.require(rt, user, "users.manage")` (admin only); a refused form is shown again with the
Vietnamese reason next to its field and nothing saved."""

from __future__ import annotations

import re
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from engine import api, directory, reminders
from engine.directory import UserView, add_person, list_people, list_units, owner_key
from engine.errors import CchcError, Forbidden, NotFound, ValidationFailed
from plans.errors import DataFileError, FileProblem
from plans.people_schema import CHANNELS
from vntext.text import nfc
from web import lists
from web.deps import CurrentUser, Rt, Settings, require_role
from web.routes.common import FormErrors, status_of
from web.templating import render, when_vi

router = APIRouter(prefix="/admin")

Admin = Annotated[UserView, Depends(require_role("admin"))]
LIMIT = 300
CHANNEL_LABELS = {"zalo": "Zalo", "email": "Thư điện tử", "sms": "SMS"}
STEP_LABELS = {"before": "Nhắc trước hạn", "due": "Đến hạn", "overdue": "Quá hạn",
               "escalate": "Báo lãnh đạo"}


def step_label(step: str) -> str:
    kind, _, days = step.partition(":")
    label = STEP_LABELS.get(kind, kind)
    return f"{label} ({days} ngày)" if days else label


OUTBOX_COLUMNS = ["Số thư", "Người nhận", "Kênh", "Đơn vị", "Nội dung", "Bước nhắc", "Hạn",
                  "Gửi ngày", "Đã gửi lúc", "Trạng thái", "Số lần gửi", "Lỗi gần nhất"]


def outbox_page(request: Request, rt: Rt, state: str | None, *, status_code: int = 200,
                messages: list[tuple[str, str]] | None = None,
                trang: str | None = None) -> Response:
    """The reminder log (newest `LIMIT` rows, filtered by state), paged; `?xuat=xlsx` exports
    every row the filter keeps."""
    state = state or None
    if state is not None and state not in reminders.OUTBOX_STATES:
        raise ValidationFailed(f"Trạng thái '{state}' không có", f"unknown state '{state}'",
                               field="state", value=state)
    rows = reminders.list_outbox(rt, state=state, limit=LIMIT)
    units = {u.id: u.display for u in list_units(rt)}
    names = reminders.people_names(rt, {r.person_id for r in rows})
    if lists.wants_xlsx(request):
        return lists.xlsx_response("Nhật ký nhắc việc", OUTBOX_COLUMNS, [
            [r.id, names.get(r.person_id, f"#{r.person_id}"),
             CHANNEL_LABELS.get(r.channel, r.channel), units.get(r.unit_id, ""),
             r.payload.get("title", ""), step_label(r.step), r.due_on, r.send_on,
             when_vi(r.sent_at, ""), r.state_label, r.attempts, r.last_error]
            for r in rows], "nhat-ky-nhac-viec")
    return render(request, "outbox.html", {
        "title": "Nhắc việc", "page": lists.paginate(rows, trang), "state": state or "",
        "states": [(s, reminders.OUTBOX_STATE_LABELS[s]) for s in reminders.OUTBOX_STATES],
        "counts": reminders.count_outbox_by_state(rt), "limit": LIMIT,
        "names": names, "units": units,
        "channel_label": lambda c: CHANNEL_LABELS.get(c, c), "step_label": step_label,
        "messages": messages or [],
    }, status_code=status_code)


@router.get("/outbox", include_in_schema=False)
def outbox_list(request: Request, rt: Rt, _user: Admin, state: str | None = None,
                ok: str | None = None, trang: str | None = None) -> Response:
    messages = [("ok", f"Đã đưa thư nhắc số {ok} vào hàng chờ gửi lại")] if (
        ok and ok.isdigit()) else []
    return outbox_page(request, rt, state, messages=messages, trang=trang)


@router.post("/outbox/{row_id}/retry", include_in_schema=False)
def outbox_retry(request: Request, row_id: int, rt: Rt, user: Admin) -> Response:
    """failed → pending, due now (the dispatcher sends it at its next run)."""
    try:
        reminders.retry_failed(rt, rt.now(), ids=[row_id], by=user.username)
    except ValidationFailed as exc:
        return outbox_page(request, rt, None, status_code=status_of(exc),
                           messages=[("error", exc.message_vi)])
    return RedirectResponse(f"/admin/outbox?state=failed&ok={row_id}", status_code=303)


# ---------------------------------------------------------------- units, people, plans

UNIT_KINDS = ("xã", "phường", "thị trấn", "đặc khu", "huyện", "thành phố", "thị xã", "quận",
              "tỉnh")
PERSON_ROLES = ("officer", "leader", "admin")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_UPLOAD_NAME = re.compile(r"[^A-Za-z0-9._-]")


def _manage(rt: Rt, user: UserView) -> None:
    """Admin pages that change units, people and plans: the `users.manage` action."""
    directory.require(rt, user, "users.manage")


def _in_scope(rt: Rt, user: UserView, units: list[str]) -> None:
    """An admin with a unit acts only on it and the units below it (403 otherwise); unknown
    units are left to the form's own check."""
    known = {u.slug for u in list_units(rt)}
    for unit in units:
        if unit in known:
            directory.require_write(rt, user, unit)


def _unit_errors(rt: Rt, form: dict[str, str]) -> FormErrors:
    """Vietnamese reasons next to each bad field of the add-unit form (nothing saved)."""
    errors = FormErrors()
    existing = {u.slug for u in list_units(rt)}
    slug = form["slug"]
    if not slug:
        errors.fields["slug"] = "Hãy nhập mã đơn vị"
    elif not _SLUG.match(slug):
        errors.fields["slug"] = ("Mã đơn vị chỉ gồm chữ thường không dấu, số và dấu gạch nối "
                                 "(ví dụ vinh-thanh)")
    elif slug in existing:
        errors.fields["slug"] = f"Mã đơn vị '{slug}' đã có"
    if not form["name"]:
        errors.fields["name"] = "Hãy nhập tên đơn vị"
    if form["kind"] not in UNIT_KINDS:
        errors.fields["kind"] = "Hãy chọn cấp đơn vị trong danh sách"
    if form["parent"] and form["parent"] not in existing:
        errors.fields["parent"] = f"Không có đơn vị cấp trên '{form['parent']}'"
    cutoff = form["cutoff"]
    if cutoff and not (cutoff.isdigit() and 1 <= int(cutoff) <= 31):
        errors.fields["cutoff"] = ("Ngày chốt số liệu phải là số từ 1 đến 31 "
                                   "(31: ngày cuối tháng)")
    return errors


UNIT_COLUMNS = ["Mã đơn vị", "Tên đơn vị", "Cấp", "Đơn vị cấp trên", "Ngày chốt số liệu"]


def units_page(request: Request, rt: Rt, *, form: dict[str, str] | None = None,
               errors: FormErrors | None = None, ok: str | None = None,
               status_code: int = 200, trang: str | None = None) -> Response:
    units = list_units(rt)
    return render(request, "admin_units.html", {
        "title": "Đơn vị", "units": units, "page": lists.paginate(units, trang),
        "kinds": UNIT_KINDS,
        "names": {u.slug: u.display for u in units},
        "form": form or {}, "errors": errors or FormErrors(),
        "messages": [("ok", f"Đã thêm đơn vị {ok}")] if ok else [],
    }, status_code=status_code)


@router.get("/units", include_in_schema=False)
def units_list(request: Request, rt: Rt, user: CurrentUser, ok: str | None = None,
               trang: str | None = None) -> Response:
    """`?trang=N` pages the list; `?xuat=xlsx` exports every unit."""
    _manage(rt, user)
    if lists.wants_xlsx(request):
        units = list_units(rt)
        names = {u.slug: u.display for u in units}
        return lists.xlsx_response("Đơn vị", UNIT_COLUMNS, [
            [u.slug, u.name, u.kind, names.get(u.parent_slug, u.parent_slug)
             if u.parent_slug else None, u.cutoff_day] for u in units], "don-vi")
    shown = None
    if ok:
        shown = next((u.display for u in list_units(rt) if u.slug == ok), None)
    return units_page(request, rt, ok=shown, trang=trang)


@router.post("/units", include_in_schema=False)
def units_add(request: Request, rt: Rt, user: CurrentUser,
              slug: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
              kind: Annotated[str, Form()] = "", parent: Annotated[str, Form()] = "",
              cutoff: Annotated[str, Form()] = "") -> Response:
    _manage(rt, user)
    if user.unit_id is not None and not nfc(parent):  # a top-level unit: unscoped admins only
        raise Forbidden(f"Quản trị của {user.unit_display} chỉ thêm được đơn vị trực thuộc",
                        "a unit's admin adds only units below it", field="parent")
    _in_scope(rt, user, [nfc(parent)])
    form = {"slug": nfc(slug), "name": nfc(name), "kind": nfc(kind), "parent": nfc(parent),
            "cutoff": nfc(cutoff)}
    errors = _unit_errors(rt, form)
    if not errors:
        try:
            api.add_unit(rt, slug=form["slug"], name=form["name"], kind=form["kind"],
                         parent=form["parent"] or None,
                         report_cutoff_day=int(form["cutoff"]) if form["cutoff"] else None)
        except CchcError as exc:
            errors = FormErrors.of(exc, {"report_cutoff_day": "cutoff"}, set(form))
    if errors:
        return units_page(request, rt, form=form, errors=errors, status_code=400)
    return RedirectResponse(f"/admin/units?ok={form['slug']}", status_code=303)


PEOPLE_COLUMNS = ["Họ và tên", "Vai trò", "Chức danh", "Đơn vị", "Thư điện tử",
                  "Số điện thoại", "Kênh nhận", "Trạng thái"]
LOGIN_ROLES = ("officer", "leader", "reviewer", "admin")


def people_page(request: Request, rt: Rt, user: UserView, *,
                form: dict[str, Any] | None = None, errors: FormErrors | None = None,
                ok: str | None = None, status_code: int = 200, edit: int | None = None,
                trang: str | None = None, login_form: dict[str, Any] | None = None,
                login_errors: FormErrors | None = None,
                messages: list[tuple[str, str]] | None = None) -> Response:
    """People (who gets reminders) and web logins, each with add, edit and (de)activate.
    Forms default to the admin's own unit."""
    units = list_units(rt)
    people_rows = list_people(rt)
    names = {u.slug: u.display for u in units}
    editing = next((p for p in people_rows if p.id == edit), None) if edit else None
    if form is None:
        form = ({"unit": editing.unit, "name": editing.name, "role": editing.role,
                 "title": editing.title or "", "email": editing.email or "",
                 "phone": editing.phone or "", "zalo_user_id": editing.zalo_user_id or "",
                 "channels": editing.channels, "person_id": editing.id}
                if editing else {"unit": user.unit_slug or "", "role": "officer",
                                 "channels": []})
    return render(request, "people.html", {
        "title": "Cán bộ", "page": lists.paginate(people_rows, trang, size=50),
        "units": names, "unit_list": units, "users": _managed_users(rt, user),
        "roles": PERSON_ROLES, "login_roles": LOGIN_ROLES,
        "channels": CHANNELS, "channel_label": lambda c: CHANNEL_LABELS.get(c, c),
        "form": form, "errors": errors or FormErrors(),
        "login_form": login_form or {"unit": user.unit_slug or "", "role": "officer"},
        "login_errors": login_errors or FormErrors(),
        "messages": (messages or []) + ([("ok", f"Đã lưu cán bộ {ok}")] if ok else []),
    }, status_code=status_code)


@router.get("/people", include_in_schema=False)
def people(request: Request, rt: Rt, user: CurrentUser, ok: str | None = None,
           sua: int | None = None, trang: str | None = None) -> Response:
    """`?sua=<id>` fills the form with that person to edit them; `?xuat=xlsx` exports."""
    _manage(rt, user)
    if lists.wants_xlsx(request):
        names = {u.slug: u.display for u in list_units(rt)}
        return lists.xlsx_response("Cán bộ", PEOPLE_COLUMNS, [
            [p.name, directory.role_label(p.role), p.title, names.get(p.unit, p.unit), p.email,
             p.phone, ", ".join(CHANNEL_LABELS.get(c, c) for c in p.channels),
             "Đang làm việc" if p.active else "Đã nghỉ"] for p in list_people(rt)],
            "can-bo")
    return people_page(request, rt, user, ok=ok, edit=sua, trang=trang)


@router.post("/people", include_in_schema=False)
def people_add(request: Request, rt: Rt, user: CurrentUser,
               unit: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
               role: Annotated[str, Form()] = "officer", title: Annotated[str, Form()] = "",
               email: Annotated[str, Form()] = "", phone: Annotated[str, Form()] = "",
               zalo_user_id: Annotated[str, Form()] = "",
               channels: Annotated[list[str] | None, Form()] = None,
               person_id: Annotated[int | None, Form()] = None,
               cung_nguoi: Annotated[bool, Form()] = False) -> Response:
    """Add a person, or save the one being edited (`person_id`). A new person whose name is
    already in that unit is refused unless the admin confirms it is the same person
    (`cung_nguoi`): nobody is overwritten by accident."""
    _manage(rt, user)
    _in_scope(rt, user, [nfc(unit)])
    form: dict[str, Any] = {
        "unit": nfc(unit), "name": nfc(name), "role": nfc(role), "title": nfc(title),
        "email": nfc(email), "phone": nfc(phone), "zalo_user_id": nfc(zalo_user_id),
        "channels": [c for c in (channels or []) if c], "person_id": person_id,
    }
    errors = FormErrors()
    if form["unit"] not in {u.slug for u in list_units(rt)}:
        errors.fields["unit"] = "Hãy chọn đơn vị trong danh sách"
    else:
        same = [p for p in list_people(rt, form["unit"])
                if owner_key(p.name) == owner_key(form["name"]) and p.id != person_id]
        if person_id is None and same and not cung_nguoi:
            form["duplicate"] = True
            errors.fields["name"] = (
                f"Đơn vị đã có cán bộ '{same[0].name}'"
                + (f" ({same[0].title})" if same[0].title else "")
                + ". Nếu là người khác, hãy ghi họ tên đầy đủ để phân biệt; nếu đúng là người "
                  "này, đánh dấu ô xác nhận bên dưới để cập nhật thông tin.")
        editing = next((p for p in list_people(rt, form["unit"]) if p.id == person_id), None)
        if person_id is not None and (editing is None or editing.name != form["name"]):
            errors.fields["name"] = "Không đổi được họ tên khi sửa; hãy thêm người mới"
    if not errors:
        try:
            person = add_person(rt, unit=form["unit"], name=form["name"], role=form["role"],
                                title=form["title"] or None, email=form["email"] or None,
                                phone=form["phone"] or None,
                                zalo_user_id=form["zalo_user_id"] or None,
                                channels=form["channels"] or None)
        except CchcError as exc:
            errors = FormErrors.of(exc, {}, set(form))
    if errors:
        return people_page(request, rt, user, form=form, errors=errors, status_code=400)
    return RedirectResponse(f"/admin/people?ok={quote(person.name)}", status_code=303)


@router.post("/people/{person_id}/active", include_in_schema=False)
def person_active(request: Request, person_id: int, rt: Rt, user: CurrentUser,
                  active: Annotated[bool, Form()] = False) -> Response:
    """Mark a person as left (no more reminders; kept for the history) or back at work."""
    _manage(rt, user)
    p = next((x for x in list_people(rt) if x.id == person_id), None)
    if p is None:
        raise NotFound(f"Không có cán bộ số {person_id}", f"person {person_id} not found",
                       field="person_id")
    _in_scope(rt, user, [p.unit])
    add_person(rt, unit=p.unit, name=p.name, role=p.role, title=p.title, email=p.email,
               zalo_user_id=p.zalo_user_id, phone=p.phone, channels=p.channels or None,
               active=active)
    return RedirectResponse(f"/admin/people?ok={quote(p.name)}", status_code=303)


@router.post("/logins", include_in_schema=False)
def login_add(request: Request, rt: Rt, user: CurrentUser,
              username: Annotated[str, Form()] = "", full_name: Annotated[str, Form()] = "",
              role: Annotated[str, Form()] = "officer", unit: Annotated[str, Form()] = "",
              password: Annotated[str, Form()] = "") -> Response:
    """A new web login (the password is typed by the admin and given to the person), in
    this admin's units; a login for every unit only by an admin of every unit."""
    _manage(rt, user)
    _in_scope(rt, user, [unit])
    if not unit and user.unit_id is not None:
        raise Forbidden("Chỉ quản trị toàn hệ thống mới tạo được tài khoản không gắn đơn vị",
                        "only a system-wide admin may create a login without a unit",
                        field="unit")
    form = {"username": nfc(username), "full_name": nfc(full_name), "role": role,
            "unit": unit}
    try:
        if role not in LOGIN_ROLES:
            raise ValidationFailed("Hãy chọn vai trò trong danh sách", "unknown role",
                                   field="role", value=role)
        created = directory.create_user(rt, form["username"], password=password, role=role,
                                       full_name=form["full_name"], unit=unit or None)
    except CchcError as exc:
        errors = FormErrors.of(exc, {"name": "full_name"},
                               {"username", "full_name", "role", "unit", "password"})
        return people_page(request, rt, user, login_form=form, login_errors=errors,
                           status_code=status_of(exc))
    return people_page(request, rt, user, messages=[
        ("ok", f"Đã tạo tài khoản {created.username} ({created.full_name})")])


def plans_page(request: Request, rt: Rt, *, chosen: list[str] | None = None,
               errors: FormErrors | None = None, problems: list[FileProblem] | None = None,
               messages: list[tuple[str, str]] | None = None,
               status_code: int = 200, trang: str | None = None) -> Response:
    return render(request, "admin_plans.html", {
        "title": "Kế hoạch", "page": lists.paginate(api.list_plans(rt), trang),
        "unit_list": list_units(rt),
        "chosen": chosen or [], "errors": errors or FormErrors(), "problems": problems or [],
        "messages": messages or [],
    }, status_code=status_code)


PLAN_COLUMNS = ["Mã kế hoạch", "Tên kế hoạch", "Cơ quan ban hành", "Năm", "Phụ lục",
                "Số nhiệm vụ", "Số đơn vị"]


@router.get("/plans", include_in_schema=False)
def plans_list(request: Request, rt: Rt, user: CurrentUser, ok: str | None = None,
               n: int | None = None, trang: str | None = None) -> Response:
    """`?trang=N` pages the list; `?xuat=xlsx` exports every plan."""
    _manage(rt, user)
    if lists.wants_xlsx(request):
        return lists.xlsx_response("Kế hoạch", PLAN_COLUMNS, [
            [p["id"], p["title"], p["issued_by"], p["year"], p["appendix"], p["tasks"],
             p["units"]]
            for p in api.list_plans(rt)], "ke-hoach")
    messages = [("ok", f"Đã nạp kế hoạch {ok} cho {n or 0} đơn vị")] if ok else []
    return plans_page(request, rt, messages=messages, trang=trang)


def _upload_name(filename: str) -> str:
    base = Path(filename.replace("\\", "/")).name
    return _UPLOAD_NAME.sub("-", base)[:100] or "ke-hoach.yaml"


@router.post("/plans", include_in_schema=False)
def plans_upload(request: Request, rt: Rt, user: CurrentUser, settings: Settings,
                 units: Annotated[list[str] | None, Form()] = None,
                 file: Annotated[UploadFile | None, File()] = None) -> Response:
    _manage(rt, user)
    chosen = [u for u in (units or []) if u]
    _in_scope(rt, user, chosen)
    errors = FormErrors()
    known = {u.slug for u in list_units(rt)}
    if not chosen:
        errors.fields["units"] = "Hãy chọn ít nhất một đơn vị"
    elif any(u not in known for u in chosen):
        errors.fields["units"] = "Có đơn vị không có trong danh sách"
    content = b""
    if file is None or not file.filename:
        errors.fields["file"] = "Hãy chọn tệp kế hoạch (.yaml)"
    else:
        content = file.file.read(settings.max_upload_bytes + 1)
        if len(content) > settings.max_upload_bytes:
            mb = settings.max_upload_bytes // (1024 * 1024)
            errors.fields["file"] = f"Tệp quá lớn (tối đa {mb} MB)"
        elif not content.strip():
            errors.fields["file"] = "Tệp rỗng"
    if errors:
        return plans_page(request, rt, chosen=chosen, errors=errors, status_code=400)
    assert file is not None and file.filename
    name = _upload_name(file.filename)
    with tempfile.TemporaryDirectory(prefix="cchc-plan-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        try:
            loaded = api.load_plans(rt, chosen, [path])
        except DataFileError as exc:
            problems = [replace(p, file=name) if p.file == str(path) else p
                        for p in exc.file_problems]
            return plans_page(request, rt, chosen=chosen, problems=problems, status_code=400)
        except CchcError as exc:
            errors = FormErrors.of(exc, {"unit": "units", "plan": "file"}, {"units", "file"})
            return plans_page(request, rt, chosen=chosen, errors=errors,
                              status_code=status_of(exc))
    plan_id = loaded[0].plan_id if loaded else ""
    return RedirectResponse(f"/admin/plans?ok={quote(plan_id)}&n={len(chosen)}",
                            status_code=303)


# ---------------------------------------------------------------- users: lock and unlock


def _managed_users(rt: Rt, user: UserView) -> list[UserView]:
    """The accounts this admin may lock: all (no unit), else those of its units."""
    mine = {u.slug for u in directory.readable_units(rt, user)}
    return [u for u in directory.list_users(rt)
            if user.unit_id is None or (u.unit_slug is not None and u.unit_slug in mine)]


@router.get("/users", include_in_schema=False)
def users_list(request: Request, rt: Rt, user: CurrentUser, ok: str | None = None) -> Response:
    _manage(rt, user)
    messages = [("ok", ok)] if ok else []
    return render(request, "admin_users.html", {
        "title": "Tài khoản", "users": _managed_users(rt, user), "messages": messages})


@router.post("/users/{username}/{action}", include_in_schema=False)
def users_lock(request: Request, username: str, action: str, rt: Rt,
               user: CurrentUser) -> Response:
    """Lock (sessions end, API tokens stop working) or unlock an account of this admin's
    units; an admin cannot lock itself out."""
    _manage(rt, user)
    if action not in ("lock", "unlock"):
        raise NotFound("Không có thao tác này", f"no action '{action}'", field="action")
    target = next((u for u in _managed_users(rt, user)
                   if u.username == directory.normalise_username(username)), None)
    if target is None:
        raise NotFound(f"Không có tài khoản '{username}' trong phạm vi quản lý",
                       f"no user '{username}' in your scope", field="username")
    if target.id == user.id:
        raise Forbidden("Không thể tự khóa tài khoản của mình", "you cannot lock yourself",
                        field="username")
    directory.set_active(rt, target.username, action == "unlock")
    done = "Đã mở khóa" if action == "unlock" else "Đã khóa"
    return RedirectResponse(f"/admin/users?ok={quote(done + ' ' + target.username)}",
                            status_code=303)
