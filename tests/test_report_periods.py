"""Reports scoped by period: only the plans in force, numbered by the report definition.

Two years of plans side by side in one province: each quarter's report holds that year's plans;
two plans in force for one appendix is a located data error (never a traceback), named by
`report check`; `report run-all` exports every other unit, names the broken one and exits 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from province_seed import COMMUNES, province_units
from typer.testing import CliRunner

from cli.main import app
from engine import api
from engine.domain.report_definition import DEFAULT_REPORT, report_definition
from engine.errors import DataFileError, ValidationFailed
from engine.runtime import Runtime
from plans import DEMO_BUNDLE, parse_model
from plans.report_schema import ReportDefinition

CCHC = DEMO_BUNDLE / "cchc-2023.yaml"
PAPI = DEMO_BUNDLE / "papi-2023.yaml"


def plan_of_year(tmp_path: Path, source: Path, year: int, *, owner: str | None = None,
                 change: Any = None) -> Path:
    """The demo plan moved to `year` (every "2023" in it), as `owner`'s own plan if given."""
    data = yaml.safe_load(source.read_text(encoding="utf-8").replace("2023", str(year)))
    if owner:
        data["owner"] = owner
    if change:
        change(data)
    path = tmp_path / f"{data['id']}-{owner or 'khung'}-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def two_years(rt: Runtime, tmp_path: Path) -> Runtime:
    rt.clock.set("2027-03-01T09:00")  # type: ignore[attr-defined]
    province_units(rt)
    for year in (2026, 2027):
        api.load_plans(rt, COMMUNES, [plan_of_year(tmp_path, PAPI, year)])
        for slug in COMMUNES:
            api.load_plans(rt, [], [plan_of_year(tmp_path, CCHC, year, owner=slug)])
    return rt


def _appendices(rt: Runtime, unit: str, period: str) -> list[tuple[int, str]]:
    return [(a.number, a.plan_id) for a in api.take_snapshot(rt, unit, period).appendices]


def test_each_period_holds_the_plans_in_force(two_years: Runtime) -> None:
    rt = two_years
    for q in range(1, 5):
        assert _appendices(rt, "xa-a", f"2026-Q{q}") == [(1, "cchc-2026@xa-a"),
                                                          (2, "papi-2026")]
        assert _appendices(rt, "xa-b", f"2027-Q{q}") == [(1, "cchc-2027@xa-b"),
                                                          (2, "papi-2027")]
    assert _appendices(rt, "xa-c", "2026-Y") == [(1, "cchc-2026@xa-c"), (2, "papi-2026")]
    # 2027 is not in the working calendar yet: said, as a warning, not silently ordinary days
    assert [(f.code, f.severity) for f in api.check(rt, "xa-a", "2027-Q1")] == [
        ("calendar_year_missing", "warning")]
    assert api.check(rt, "xa-a", "2026-Q3") == []


def test_two_plans_in_force_for_one_appendix_is_a_located_error(
        two_years: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = two_years

    def longer(d: dict[str, Any]) -> None:  # a 2026 plan extended into 2027 by mistake
        d["id"] = "cchc-2026-bs"
        d["valid_to"] = "30/06/2027"

    api.load_plans(rt, [], [plan_of_year(tmp_path, CCHC, 2026, owner="xa-b", change=longer)])
    with pytest.raises(DataFileError) as refused:
        api.take_snapshot(rt, "xa-b", "2027-Q1")
    [problem] = refused.value.file_problems
    assert problem.file == str(DEFAULT_REPORT)
    assert (problem.location, problem.line) == ("appendices[0]", 12)
    assert "trùng số phụ lục: Phụ lục 1 của xã B trong kỳ 2027-Q1" in problem.message_vi
    assert "cchc-2026-bs (hiệu lực 01/01/2026–30/06/2027)" in problem.message_vi
    assert "cchc-2027 (hiệu lực 01/01/2027–31/12/2027)" in problem.message_vi
    # report check names it; other units and other periods are untouched
    [finding] = [f for f in api.check(rt, "xa-b", "2027-Q1") if f.severity == "error"]
    assert finding.code == "report_definition" and "bao-cao-cchc.yaml:12" in finding.message_vi
    assert _appendices(rt, "xa-a", "2027-Q1") == [(1, "cchc-2027@xa-a"), (2, "papi-2027")]

    # run-all over the province: every other unit exported, the broken one named, exit 1
    out = tmp_path / "out"
    db = rt.db.url
    res = CliRunner().invoke(app, ["report", "run-all", "--period", "2027-Q1", "--out", str(out),
                                   "--parent", "khanh-hoa", "--db", db, "--at",
                                   "2027-03-20T09:00", "--json"])
    assert res.exit_code == 1, res.output
    rows = {r["unit"]: r for r in json.loads(res.stdout)}
    assert sorted(rows) == COMMUNES
    assert "trùng số phụ lục" in rows["xa-b"]["error"]
    for slug in ("xa-a", "xa-c"):
        assert "error" not in rows[slug] and rows[slug]["files"] == 5
        assert sorted(p.name for p in (out / slug).iterdir()) == [
            "phu-luc-1.docx", "phu-luc-1.xlsx", "phu-luc-2.docx", "phu-luc-2.xlsx",
            "snapshot.json"]
    res = CliRunner().invoke(app, ["report", "run-all", "--period", "2027-Q1", "--out", str(out),
                                   "--db", db, "--at", "2027-03-20T09:00"])
    assert res.exit_code == 1
    assert "1 đơn vị lỗi: xa-b" in " ".join(res.output.split())


def test_report_definition_file_is_validated_with_places(tmp_path: Path) -> None:
    head = "schema_version: 1\nid: bc\ntitle: Báo cáo\nappendices:\n"
    dup = head + ("  - number: 1\n    plan_kinds: [cchc]\n"
                  "  - number: 1\n    plan_kinds: [papi]\n")
    with pytest.raises(DataFileError) as refused:
        parse_model(ReportDefinition, dup, "bc.yaml")
    assert [(p.location, p.line) for p in refused.value.file_problems] == [
        ("appendices[1].number", 7)]
    assert "trùng số phụ lục 1" in refused.value.file_problems[0].message_vi
    stats = head + "  - number: 4\n    kind: statistics\n"
    with pytest.raises(DataFileError, match="phụ lục thống kê phải có 'title'"):
        parse_model(ReportDefinition, stats, "bc.yaml")
    ok = parse_model(ReportDefinition, stats + "    title: Thống kê\n", "bc.yaml")
    assert [a.kind for a in ok.appendices] == ["statistics"]
    assert [a.number for a in report_definition().spec.appendices] == [1, 2, 3]


def test_a_copy_still_naming_last_year_loads_with_a_warning(rt: Runtime, tmp_path: Path) -> None:
    rt.clock.set("2027-03-01T09:00")  # type: ignore[attr-defined]
    province_units(rt)

    stale_code: list[str] = []

    def stale(d: dict[str, Any]) -> None:  # next year's copy, one deadline not moved
        task = d["sections"][3]["tasks"][0]
        task["deadline"] = "Quý I/2026"
        stale_code.append(task["code"])

    [res] = api.load_plans(rt, [], [plan_of_year(tmp_path, CCHC, 2027, owner="xa-a",
                                                 change=stale)])
    [warning] = res.warnings
    assert (f"nhiệm vụ {stale_code[0]}: hạn 'Quý I/2026' (31/03/2026) nằm ngoài thời gian "
            "hiệu lực") in warning
    assert "01/01/2027–31/12/2027" in warning


def test_rollover_makes_next_years_plan_and_links_carried_tasks(
        rt: Runtime, tmp_path: Path) -> None:
    from engine.domain.rollover import roll_over
    from engine.domain.tasks import Actor, TaskKey, history, transition

    rt.clock.set("2026-12-20T09:00")  # type: ignore[attr-defined]
    province_units(rt)
    api.load_plans(rt, [], [plan_of_year(tmp_path, CCHC, 2026, owner="xa-a")])
    api.load_plans(rt, COMMUNES, [plan_of_year(tmp_path, PAPI, 2026)])
    officer = Actor("Trần Văn A", "officer")
    transition(rt, TaskKey("xa-a", "cchc-2026", "10"), "start", officer)
    transition(rt, TaskKey("xa-a", "cchc-2026", "1"), "complete", officer,
               evidence=["Kế hoạch số 223/KH-UBND ngày 06/3/2026"], result="Đã công khai")
    rt.clock.set("2027-01-12T09:00")  # type: ignore[attr-defined]
    issued = "Kế hoạch số 5/KH-UBND ngày 10/01/2027"

    # a finished task cannot be carried over; nothing is created then
    with pytest.raises(ValidationFailed, match="nhiệm vụ 1 đã hoàn thành"):
        roll_over(rt, "xa-a", "cchc-2026", year=2027, issued_by=issued,
                  out_dir=tmp_path / "new", carry=["1", "10"])
    res = roll_over(rt, "xa-a", "cchc-2026", year=2027, issued_by=issued,
                    out_dir=tmp_path / "new", carry=["10"])
    assert res.loaded.plan_id == "cchc-2027@xa-a" and res.loaded.warnings == ()
    assert res.carried == ("xa-a:10",)
    new = api.get_task(rt, TaskKey("xa-a", "cchc-2027", "10"))
    assert new.deadline == "Quý I/2027" and new.state == "not_started"
    assert [h.note for h in history(rt, TaskKey("xa-a", "cchc-2027", "10"))] == [
        "Chuyển tiếp từ nhiệm vụ 10 của kế hoạch cchc-2026@xa-a (Đang thực hiện)"]
    assert history(rt, TaskKey("xa-a", "cchc-2026", "10"))[-1].note == \
        "Chuyển tiếp sang nhiệm vụ 10 của kế hoạch cchc-2027@xa-a"
    text = Path(res.file).read_text(encoding="utf-8")
    assert "2026" not in text and "owner: xa-a" in text
    # both years side by side: each period's report holds its own year's plan
    assert _appendices(rt, "xa-a", "2026-Q4")[0] == (1, "cchc-2026@xa-a")
    assert _appendices(rt, "xa-a", "2027-Q1")[0] == (1, "cchc-2027@xa-a")
    # a framework rolls over for every unit that has it
    fw = roll_over(rt, None, "papi-2026", year=2027, issued_by=issued, out_dir=tmp_path / "new")
    assert (fw.loaded.plan_id, fw.loaded.units) == ("papi-2027", 3)


def test_quarter_end_job_closes_calendar_quarters_with_cutoff_31() -> None:
    from datetime import date, datetime

    from engine.clock import VN_TZ
    from engine.reminders.scheduler import closing_quarter

    # 30/6 is the cut-off of a cut-off day 31 (June has 30 days): Q2 closes on 1/7
    closed = closing_quarter(date(2026, 7, 1), datetime(2026, 7, 1, 9, 0, tzinfo=VN_TZ), 31)
    assert closed is not None
    assert (closed.code, closed.start, closed.end) == ("2026-Q2", date(2026, 4, 1),
                                                       date(2026, 6, 30))


def test_rollover_keeps_unit_slugs_that_hold_the_year() -> None:
    """A commune whose slug holds the old year ("xa-2023", the 2,023rd commune of a generated
    province) keeps its slug as owner and issuer: only texts that name the year move."""
    from engine.domain.rollover import next_year_spec

    definition = {
        "id": "cchc-2023", "kind": "cchc", "year": 2023, "owner": "xa-2023",
        "issuer": "tinh-2023", "title": "Kế hoạch CCHC năm 2023 của xã 2023",
        "issued_by": "Kế hoạch số 1/KH-UBND ngày 05/01/2023",
        "appendix": {"number": 1, "title": "Nhiệm vụ CCHC năm 2023"},
        "sections": [{"title": "I", "tasks": [{"code": "1", "text": "Việc",
                                               "deadline": "Quý I/2023"}]}],
    }
    data = next_year_spec(definition, 2024, "Kế hoạch số 2/KH-UBND ngày 04/01/2024")
    assert (data["id"], data["owner"], data["issuer"]) == ("cchc-2024", "xa-2023", "tinh-2023")
    assert data["sections"][0]["tasks"][0]["deadline"] == "Quý I/2024"
    assert data["appendix"]["title"] == "Nhiệm vụ CCHC năm 2024"
