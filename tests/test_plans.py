"""Plan files as data: exact counts, refusal of malformed files, idempotent and versioned loads,
many units in one database, and refusal of malformed workflow files."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import MetaData, func, select

from engine import api
from engine.domain.plan_guard import UnitLoad
from engine.domain.tasks import Actor, TaskKey, add_note, assign, history, transition
from engine.errors import Conflict, DataFileError
from engine.runtime import Runtime
from engine.storage.models import PlanSection, PlanTask, Task
from plans import DEMO_BUNDLE, load_plan
from workflows import WORKFLOW_DIR, load_workflow

CCHC = DEMO_BUNDLE / "cchc-2023.yaml"
PAPI = DEMO_BUNDLE / "papi-2023.yaml"
KL91 = DEMO_BUNDLE / "kl91-2023.yaml"
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII"]
OFFICER = Actor("Trần Văn A", "officer")
LEADER = Actor("Nguyễn Quốc Bảo", "leader")
DOC = "Kế hoạch số 223/KH-UBND ngày 06/3/2023"


# --- helpers ------------------------------------------------------------------------------------


_TABLES: dict[str, MetaData] = {}


def dump_db(rt: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (whatever migrations created), in a comparable form."""
    meta = _TABLES.get(rt.db.url)
    if meta is None:
        meta = _TABLES[rt.db.url] = MetaData()
        meta.reflect(bind=rt.db.engine)
    assert len(meta.tables) >= 9
    with rt.db.engine.connect() as conn:
        return {t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=repr)
                for t in meta.sorted_tables}


def row_counts(rt: Runtime) -> dict[str, int]:
    return {name: len(rows) for name, rows in dump_db(rt).items()}


def units(rt: Runtime, *communes: str) -> None:
    api.load_units_file(rt, DEMO_BUNDLE / "units.yaml")
    for slug in communes:
        if slug != "vinh-thanh":
            api.add_unit(rt, slug=slug, name=slug.replace("-", " ").title(), kind="xã",
                         parent="nha-trang")


def edited(tmp_path: Path, source: Path, name: str, change: Any) -> Path:
    """A copy of `source` with `change(data)` applied to its parsed YAML."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    change(data)
    target = tmp_path / name
    target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                      encoding="utf-8")
    return target


def task_row(rt: Runtime, unit: str, plan: str, code: str) -> tuple[Any, ...]:
    view = api.get_task(rt, TaskKey(unit, plan, code))
    return (view.state, view.owner, view.deadline, view.result, view.note, view.done_on,
            view.version)


# --- the three plan files -----------------------------------------------------------------------


def test_cchc_2023_has_sections_i_to_vii_and_23_tasks() -> None:
    spec = load_plan(CCHC)
    assert (spec.id, spec.kind, spec.year, spec.appendix.number) == ("cchc-2023", "cchc", 2023, 1)
    assert [s.code for s in spec.sections] == ROMAN
    assert all(not s.sections and s.tasks for s in spec.sections)
    assert [t.code for _, t in spec.iter_tasks()] == [str(i) for i in range(1, 24)]


def test_papi_2023_has_8_dimensions_32_subdimensions_and_54_tasks() -> None:
    spec = load_plan(PAPI)
    assert (spec.id, spec.kind, spec.appendix.layout) == ("papi-2023", "papi", "dimensions")
    assert [d.code for d in spec.sections] == [str(i) for i in range(1, 9)]
    subs = [s for d in spec.sections for s in d.sections]
    assert len(subs) == 32
    for d in spec.sections:
        assert not d.tasks
        assert [s.code for s in d.sections] == [
            f"{d.code}.{i}" for i in range(1, len(d.sections) + 1)]
    tasks = spec.iter_tasks()
    assert len(tasks) == 54
    for sub in subs:
        assert [t.code for t in sub.tasks] == [
            f"{sub.code}.{n}" for n in range(1, len(sub.tasks) + 1)]
    codes = [t.code for _, t in tasks]
    assert {"1.2.3", "5.3.1", "8.3.2"} <= set(codes)
    assert codes[0] == "1.1.1" and codes[-1] == "8.3.2"


def test_kl91_2023_has_sections_i_to_vii_and_47_tasks() -> None:
    spec = load_plan(KL91)
    assert (spec.id, spec.kind, spec.appendix.number) == ("kl91-2023", "kl91", 3)
    assert [s.code for s in spec.sections] == ROMAN
    assert [t.code for _, t in spec.iter_tasks()] == [str(i) for i in range(1, 48)]


def test_all_three_load_into_the_database(rt: Runtime) -> None:
    units(rt, "vinh-thanh")
    loaded = api.load_plans(rt, ["vinh-thanh"], [CCHC, PAPI, KL91])
    assert [(p.plan_id, p.tasks, p.new_tasks_per_unit, p.changed) for p in loaded] == [
        ("cchc-2023", 23, 23, True), ("papi-2023", 54, 54, True), ("kl91-2023", 47, 47, True)]
    assert {p["id"]: (p["tasks"], p["units"], p["appendix"]) for p in api.list_plans(rt)} == {
        "cchc-2023": (23, 1, 1), "papi-2023": (54, 1, 2), "kl91-2023": (47, 1, 3)}
    with rt.db.read() as s:
        sections = dict(s.execute(select(PlanSection.plan_id, func.count())
                                  .group_by(PlanSection.plan_id)).all())
        assert sections == {"cchc-2023": 7, "papi-2023": 8 + 32, "kl91-2023": 7}
        # 124 tasks; the 4 quarterly ones have 4 rows and the monthly one 12 (one per period)
        assert s.scalar(select(func.count()).select_from(Task)) == 124 + 4 * 3 + 11
    views = api.list_tasks(rt, "vinh-thanh", plan="papi-2023", section="5.3")
    assert [v.code for v in views] == ["5.3.1"]
    assert all(v.state == "not_started" and v.version == 1
               for v in api.list_tasks(rt, "vinh-thanh"))


# --- malformed plan files -----------------------------------------------------------------------

SRC = CCHC.read_text(encoding="utf-8")


def _variant(old: str, new: str, count: int = 1) -> str:
    assert old in SRC, old
    return SRC.replace(old, new, count)


# name -> (broken text, location, line marker (text on the reported line), vi, en)
MALFORMED: dict[str, tuple[str, str, str | None, str, str]] = {
    "bad_yaml": (_variant("  number: 1\n", "  number: [1\n"), "", "  title: KẾT QUẢ",
                 "lỗi cú pháp: thiếu dấu phẩy hoặc ngoặc vuông đóng", "YAML syntax error"),
    "missing_field": (_variant("year: 2023\n", ""), "year", None,
                      "thiếu trường bắt buộc", "Field required"),
    "wrong_type": (_variant("year: 2023\n", "year: hai nghìn\n"), "year", "year: hai nghìn",
                   "phải là số nguyên", "valid integer"),
    "wrong_type_text": (_variant("        text: Cập nhật, công khai", "        text: 12345\n#"),
                        "sections[0].tasks[0].text", "text: 12345",
                        "phải là chuỗi văn bản", "valid string"),
    "wrong_type_list": (_variant("  - code: I\n", "  - code: I\n    sections: 5\n"),
                        "sections[0].sections", "sections: 5", "phải là danh sách",
                        "valid list"),
    "unknown_key": (_variant("        owner: Công chức Văn phòng", "        ownr: Công chức"),
                    "sections[0].tasks[0].ownr", "ownr: Công chức",
                    "trường không được phép", "Extra inputs are not permitted"),
    "duplicate_code": (_variant("      - code: '2'\n", "      - code: '1'\n"),
                       "sections[0].tasks[1].code", "- code: '1'",
                       "mã nhiệm vụ '1' bị trùng", "duplicate task code '1'"),
    "bad_deadline": (_variant("deadline: Thường xuyên", "deadline: Quý V/2023"),
                     "sections[0].tasks[0].deadline", "deadline: Quý V/2023",
                     "hạn 'Quý V/2023' không hiểu được", "deadline not understood"),
    "bad_deadline_date": (_variant("deadline: Thường xuyên", "deadline: Trước ngày 30/02/2023"),
                          "sections[0].tasks[0].deadline", "deadline: Trước ngày 30/02/2023",
                          "không hiểu được", "deadline not understood"),
    "bad_issuing_document": (
        _variant("issued_by: Quyết định số 19/QĐ-UBND", "issued_by: Quyết định số 19/KH-UBND"),
        "issued_by", None, "không khớp với ký hiệu", "does not match the symbol"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_plan_is_refused_precisely_and_loads_nothing(
    name: str, sqlite_rt: Runtime, tmp_path: Path
) -> None:
    text, location, marker, vi, en = MALFORMED[name]
    bad = tmp_path / f"{name}.yaml"
    bad.write_text(text, encoding="utf-8")
    units(sqlite_rt, "vinh-thanh")
    before = dump_db(sqlite_rt)
    with pytest.raises(DataFileError) as info:
        api.load_plans(sqlite_rt, ["vinh-thanh"], [bad])
    assert dump_db(sqlite_rt) == before
    problems = info.value.file_problems
    assert problems, "a refusal must list its problems"
    first = problems[0]
    assert first.file == str(bad)
    assert first.location == location
    assert vi in first.message_vi, first.message_vi
    assert en in first.message_en, first.message_en
    assert vi not in first.message_en and en not in first.message_vi
    if marker is not None:
        assert first.line is not None
        assert marker in text.splitlines()[first.line - 1]
    rendered = str(info.value)
    assert str(bad) in rendered and vi in rendered and en in rendered


def test_one_bad_file_refuses_the_whole_batch(rt: Runtime, tmp_path: Path) -> None:
    units(rt, "vinh-thanh")
    bad = edited(tmp_path, PAPI, "papi-bad.yaml",
                 lambda d: d["sections"][4]["sections"][2]["tasks"][0].update(code="5.3.9.1"))
    before = row_counts(rt)
    with pytest.raises(DataFileError) as info:
        api.load_plans(rt, ["vinh-thanh"], [CCHC, bad, KL91])
    assert row_counts(rt) == before
    assert before["plans"] == before["plan_tasks"] == before["tasks"] == 0
    p = info.value.file_problems[0]
    assert (p.file, p.location) == (str(bad), "sections[4].sections[2].tasks[0].code")
    assert "5.3.<n>" in p.message_vi and "must be 5.3.<n>" in p.message_en


def test_a_malformed_new_version_leaves_the_loaded_plan_untouched(
    rt: Runtime, tmp_path: Path
) -> None:
    units(rt, "vinh-thanh")
    api.load_plans(rt, ["vinh-thanh"], [CCHC])
    transition(rt, TaskKey("vinh-thanh", "cchc-2023", "1"), "complete", OFFICER,
               evidence=[DOC], result="Đã ban hành kế hoạch")
    before = dump_db(rt)

    def breaks(d: dict[str, Any]) -> None:
        d["sections"][0]["tasks"][0]["text"] = "Nội dung mới"
        d["sections"][1]["tasks"].append({"code": "3", "text": "trùng mã"})

    bad = edited(tmp_path, CCHC, "cchc-v2.yaml", breaks)
    with pytest.raises(DataFileError, match="bị trùng"):
        api.load_plans(rt, ["vinh-thanh"], [bad])
    assert dump_db(rt) == before


# --- reloading ----------------------------------------------------------------------------------


def test_loading_the_same_plan_twice_changes_nothing(rt: Runtime) -> None:
    units(rt, "vinh-thanh")
    api.load_plans(rt, ["vinh-thanh"], [CCHC, PAPI])
    key = TaskKey("vinh-thanh", "cchc-2023", "4")
    transition(rt, key, "complete", OFFICER, evidence=[DOC], result="Đã rà soát")
    assign(rt, TaskKey("vinh-thanh", "papi-2023", "1.2.3"), "Công chức Tư pháp - Hộ tịch",
           LEADER)
    before = dump_db(rt)
    again = api.load_plans(rt, ["vinh-thanh"], [CCHC, PAPI])
    assert [(p.changed, p.new_tasks_per_unit) for p in again] == [(False, 0), (False, 0)]
    assert dump_db(rt) == before
    assert [h.event for h in history(rt, key)] == ["complete"]


def test_a_changed_plan_keeps_the_state_and_history_of_existing_tasks(
    rt: Runtime, tmp_path: Path
) -> None:
    units(rt, "vinh-thanh")
    api.load_plans(rt, ["vinh-thanh"], [CCHC])
    k1, k2, k23 = (TaskKey("vinh-thanh", "cchc-2023", c) for c in ("1", "2", "23"))
    transition(rt, k1, "complete", OFFICER, evidence=[DOC], result="Đã công khai")
    transition(rt, k2, "start", OFFICER)
    add_note(rt, k2, "Đang rà soát văn bản", OFFICER)
    assign(rt, k23, "Công chức Văn phòng - Thống kê", LEADER)
    rows = {k: task_row(rt, k.unit, k.plan, k.code) for k in (k1, k2, k23)}
    hist = {k: history(rt, k) for k in (k1, k2, k23)}
    old_text_2 = api.get_task(rt, k2).text

    # v2: task 2's text edited, a task 24 added at the end of section VII
    def v2_change(d: dict[str, Any]) -> None:
        d["sections"][0]["tasks"][1]["text"] = "Rà soát, hệ thống hóa văn bản (sửa đổi)"
        d["sections"][6]["tasks"].append({"code": "24", "text": "Nhiệm vụ bổ sung năm 2023",
                                          "deadline": "Quý IV/2023"})

    v2 = edited(tmp_path, CCHC, "cchc-v2.yaml", v2_change)
    [res] = api.load_plans(rt, ["vinh-thanh"], [v2])
    assert (res.changed, res.tasks, res.new_tasks_per_unit) == (True, 24, 1)
    view2 = api.get_task(rt, k2)
    assert view2.text == "Rà soát, hệ thống hóa văn bản (sửa đổi)" != old_text_2
    new = api.get_task(rt, TaskKey("vinh-thanh", "cchc-2023", "24"))
    assert (new.state, new.version, new.section, new.due_on) == (
        "not_started", 1, "VII", date(2023, 12, 31))
    for k in (k1, k2, k23):
        assert task_row(rt, k.unit, k.plan, k.code) == rows[k]
        assert history(rt, k) == hist[k]

    # v3: tasks 23 and 24 removed — retired, not deleted: their rows and history stay
    def v3_change(d: dict[str, Any]) -> None:
        d["sections"][6]["tasks"] = [t for t in d["sections"][6]["tasks"]
                                     if t["code"] not in ("23", "24")]

    v3 = edited(tmp_path, CCHC, "cchc-v3.yaml", v3_change)
    # task 23 has been assigned: dropping it is refused, naming it, unless asked explicitly
    with pytest.raises(Conflict, match="vinh-thanh nhiệm vụ 23") as refused:
        api.load_plans(rt, ["vinh-thanh"], [v3])
    assert "--allow-drop" in refused.value.message_vi
    assert {p["id"]: p["tasks"] for p in api.list_plans(rt)} == {"cchc-2023": 24}
    [res] = api.load_plans(rt, ["vinh-thanh"], [v3], allow_drop_state=True)
    assert res.per_unit[0] == UnitLoad("vinh-thanh", 0, 1, 21, 2)  # task 2 back to v1 text
    assert {p["id"]: p["tasks"] for p in api.list_plans(rt)} == {"cchc-2023": 22}
    listed = [v.code for v in api.list_tasks(rt, "vinh-thanh")]
    assert list(dict.fromkeys(listed)) == [str(i) for i in range(1, 23)]
    with rt.db.read() as s:
        retired = set(s.scalars(select(PlanTask.code).where(PlanTask.retired.is_(True))))
    assert retired == {"23", "24"}
    assert history(rt, k23) == hist[k23]
    assert api.get_task(rt, k2).text == old_text_2  # v3 is built from v1's text

    # back to v1: task 23 returns with its owner and history; 24 stays retired
    [res] = api.load_plans(rt, ["vinh-thanh"], [CCHC])
    assert (res.changed, res.new_tasks_per_unit) == (True, 0)
    for k in (k1, k2, k23):
        assert task_row(rt, k.unit, k.plan, k.code) == rows[k]
        assert history(rt, k) == hist[k]
    assert api.get_task(rt, k2).text == old_text_2
    assert list(dict.fromkeys(v.code for v in api.list_tasks(rt, "vinh-thanh"))) == [
        str(i) for i in range(1, 24)]


def test_papi_task_removed_mid_subdimension_and_another_added(
    sqlite_rt: Runtime, tmp_path: Path
) -> None:
    rt = sqlite_rt
    units(rt, "vinh-thanh")
    api.load_plans(rt, ["vinh-thanh"], [PAPI])
    keep = TaskKey("vinh-thanh", "papi-2023", "1.2.3")
    transition(rt, keep, "wait", OFFICER, note="Chờ hướng dẫn của UBND thành phố")
    before = task_row(rt, keep.unit, keep.plan, keep.code), history(rt, keep)

    def change(d: dict[str, Any]) -> None:
        sub = d["sections"][0]["sections"][1]  # 1.2
        assert [t["code"] for t in sub["tasks"]] == ["1.2.1", "1.2.2", "1.2.3"]
        sub["tasks"] = [t for t in sub["tasks"] if t["code"] != "1.2.2"]
        sub["tasks"].append({"code": "1.2.4", "text": "Nhiệm vụ mới của nội dung 1.2"})

    [res] = api.load_plans(rt, ["vinh-thanh"], [edited(tmp_path, PAPI, "papi-v2.yaml", change)])
    assert (res.tasks, res.new_tasks_per_unit) == (54, 1)
    codes = [v.code for v in api.list_tasks(rt, "vinh-thanh", section="1.2")]
    assert codes == ["1.2.1", "1.2.3", "1.2.4"]
    assert (task_row(rt, keep.unit, keep.plan, keep.code), history(rt, keep)) == before


# --- many units in one database -----------------------------------------------------------------


def test_many_units_each_with_its_own_plan_instance(rt: Runtime) -> None:
    units(rt, "vinh-thanh", "vinh-luong", "vinh-phuong")
    listed = {u.slug: u for u in api.list_units(rt)}
    assert listed["vinh-luong"].parent_slug == "nha-trang"
    assert listed["nha-trang"].parent_slug == "khanh-hoa"
    assert listed["vinh-luong"].cutoff_day == 13  # inherited from the province
    api.load_plans(rt, ["vinh-thanh", "vinh-luong"], [CCHC, KL91])
    api.load_plans(rt, ["vinh-phuong"], [CCHC])
    with rt.db.read() as s:
        # cchc: 23 tasks, + 3 more quarters of task 7, + 11 more months of task 6; kl91: 47,
        # + 3 more quarters of its quarterly task
        assert s.scalar(select(func.count()).select_from(Task)) == 2 * (37 + 50) + 37
        assert s.scalar(select(func.count()).select_from(PlanTask)) == 70  # shared definitions
    assert {p["id"]: p["units"] for p in api.list_plans(rt)} == {"cchc-2023": 3, "kl91-2023": 2}
    assert api.list_tasks(rt, "vinh-phuong", plan="kl91-2023") == []

    a, b = TaskKey("vinh-thanh", "cchc-2023", "5"), TaskKey("vinh-luong", "cchc-2023", "5")
    b_before = dump_task(rt, b)
    transition(rt, a, "complete", OFFICER, evidence=[DOC], result="Đã số hóa")
    assign(rt, a, "Công chức Văn phòng - Thống kê", LEADER)
    api.set_deadline(rt, a, "Quý IV/2023", LEADER)
    assert api.get_task(rt, a).state == "done"
    assert dump_task(rt, b) == b_before
    assert api.get_task(rt, b).state == "not_started" and history(rt, b) == []
    states = {(v.unit, v.state) for slug in ("vinh-luong", "vinh-phuong")
              for v in api.list_tasks(rt, slug)}
    assert states == {("vinh-luong", "not_started"), ("vinh-phuong", "not_started")}


def dump_task(rt: Runtime, key: TaskKey) -> tuple[Any, ...]:
    return task_row(rt, key.unit, key.plan, key.code), tuple(history(rt, key))


# --- workflow files -----------------------------------------------------------------------------


def _workflow_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = (WORKFLOW_DIR / "task.yaml").read_text(encoding="utf-8")
    assert old in text
    folder = tmp_path / "wf"
    folder.mkdir()
    (folder / "task.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def test_an_unchanged_workflow_copy_loads(tmp_path: Path) -> None:
    folder = tmp_path / "ok"
    folder.mkdir()
    shutil.copy(WORKFLOW_DIR / "task.yaml", folder / "task.yaml")
    assert load_workflow("task", folder) == load_workflow("task")


@pytest.mark.parametrize(
    ("old", "new", "location", "marker", "vi", "en"),
    [
        ("guards: [has_note]\n", "guards: [has_reason]\n", "transitions[2].guards[0]",
         "guards: [has_reason]", "điều kiện 'has_reason' không có",
         "transition 'wait': unknown guard 'has_reason'"),
        ("dest: waiting_upper\n", "dest: waiting_uper\n", "transitions[2].dest",
         "dest: waiting_uper", "trạng thái 'waiting_uper' không tồn tại",
         "transition 'wait': unknown state 'waiting_uper'"),
        ("source: [not_started, waiting_upper, nothing_arose]",
         "source: [not_started, waitng_upper, nothing_arose]", "transitions[0].source[1]",
         "waitng_upper", "trạng thái 'waitng_upper' không tồn tại",
         "transition 'start': unknown state 'waitng_upper'"),
        ("roles: [leader, admin]\n", "roles: [leader, chairman]\n",
         "transitions[4].roles[1]", "chairman", "giá trị không nằm trong danh sách",
         "Input should be"),
    ],
)
def test_a_malformed_workflow_file_is_refused_precisely(
    tmp_path: Path, old: str, new: str, location: str, marker: str, vi: str, en: str
) -> None:
    folder = _workflow_copy(tmp_path, old, new)
    with pytest.raises(DataFileError) as info:
        load_workflow("task", folder)
    [p] = info.value.file_problems
    assert p.file == str(folder / "task.yaml")
    assert p.location == location
    assert vi in p.message_vi and en in p.message_en
    text = (folder / "task.yaml").read_text(encoding="utf-8")
    assert p.line is not None and marker in text.splitlines()[p.line - 1]


@pytest.mark.parametrize("broken", [
    "year: 2023\n\tid: x\n",             # a tab
    "year: 2023\nid: a: b\n",            # a colon inside a value
    "year: 2023\n  id: x\n",             # indentation
    "title: \"chưa đóng ngoặc\nyear: 2023\n",  # an unclosed quote
    "items: [1, 2\nyear: 2023\n",        # an unclosed bracket
])
def test_yaml_syntax_errors_are_told_in_vietnamese(broken: str) -> None:
    from plans.errors import DataFileError
    from plans.loader import parse_model
    from plans.schema import PlanSpec

    with pytest.raises(DataFileError) as info:
        parse_model(PlanSpec, broken, "ke-hoach.yaml")
    (problem,) = info.value.file_problems
    assert problem.message_vi.startswith("lỗi cú pháp: ")
    assert problem.message_en.startswith("YAML syntax error: ")
    shown = problem.message_vi.removeprefix("lỗi cú pháp: ")
    english = ("expected", "found", "mapping", "while", "scanning", "could not", "token")
    assert not any(word in shown for word in english), shown
