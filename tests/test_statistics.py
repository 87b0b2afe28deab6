"""Phụ lục 4–6 statistics: the rounding rule, the indicator set as data, the typed tables and
their rules, the import with located refusals (database unchanged), freezing with the snapshot.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from engine import api
from engine.errors import Conflict
from engine.reporting import statistics
from engine.reporting.statistics import (
    FieldRow,
    StatisticsInput,
    StatisticsRefused,
    format_number_vi,
    parse_number,
    percent,
)
from engine.reporting.statistics.validate import field_problems
from engine.runtime import Runtime
from engine.storage.models import PeriodStatistics, StatisticsSnapshot
from plans import DEMO_BUNDLE, DataFileError

DATA = DEMO_BUNDLE / "thong-ke-2023-q3"
SAMPLES = Path(__file__).parent / "data" / "statistics"
P = "2023-Q3"


# ---------------------------------------------------------------- the rounding rule


def test_rounding_rule_on_the_seed_figures() -> None:
    assert percent(1117, 1117) == Decimal("100.00")
    assert format_number_vi(percent(1117, 1117) or 0) == "100"  # the seed typed 98,5
    assert percent(233, 1134) == Decimal("20.55")  # 20,5467… half up; the seed typed 20,54
    assert format_number_vi(percent(233, 1134) or 0) == "20,55"
    assert format_number_vi(percent(744, 894) or 0) == "83,22"
    assert format_number_vi(percent(15, 23) or 0) == "65,22"
    assert percent(0, 0) is None
    assert percent(1, 8) == Decimal("12.50")
    assert format_number_vi(Decimal("12.50")) == "12,5"


def test_numbers_the_vietnamese_way() -> None:
    assert format_number_vi(1134) == "1.134"
    assert format_number_vi(4136000) == "4.136.000"
    assert parse_number("1.134") == 1134
    assert parse_number("4.136.000") == 4136000
    assert parse_number("20,55") == Decimal("20.55")
    assert parse_number(" 1134 ") == 1134
    with pytest.raises(ValueError, match="không phải là số"):
        parse_number("12a")


@given(st.integers(0, 10**6), st.integers(1, 10**6))
def test_percent_is_half_up_to_two_places(num: int, den: int) -> None:
    got = percent(num, den)
    assert got is not None
    exact = Decimal(num) * 100 / Decimal(den)
    assert abs(got - exact) <= Decimal("0.005")
    assert got.as_tuple().exponent == -2
    assert parse_number(format_number_vi(got)) == got


# ---------------------------------------------------------------- the indicator set as data


def test_indicator_set_loads_with_every_kind() -> None:
    iset = statistics.default_indicator_set()
    kinds = {i.kind for i in iset.all()}
    assert kinds == {"heading", "input", "engine", "formula"}
    by = iset.by_code()
    assert by["3.2.2"].ratio == ("3.2.2.c", "3.2.2.b")
    assert by["1.2.a"].source == "cchc_plan_tasks"
    assert by["2.1.1"].levels == ["district"]
    assert [g.code for g in iset.groups] == ["1", "2", "3", "4", "5", "6", "7"]
    assert len(iset.content_hash) == 64


def test_broken_indicator_set_is_refused_with_its_line(tmp_path: Path) -> None:
    text = statistics.DEFAULT_SET.read_text(encoding="utf-8")
    bad = text.replace("ratio: ['3.2.2.c', '3.2.2.b']", "ratio: ['3.2.2.c', '3.2.9']")
    path = tmp_path / "chi-tieu.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        statistics.load_indicator_set(path)
    problem = err.value.file_problems[0]
    assert "3.2.9" in problem.message_vi and "không có trong bộ chỉ tiêu" in problem.message_vi
    line = next(i for i, ln in enumerate(bad.splitlines(), 1) if "3.2.9" in ln)
    assert problem.line == line


def test_formula_loop_is_refused(tmp_path: Path) -> None:
    text = statistics.DEFAULT_SET.read_text(encoding="utf-8")
    bad = text.replace("sum: ['2.1.2.a', '2.1.2.b']", "sum: ['2.1.2.a', '2.1.2']")
    path = tmp_path / "loop.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(DataFileError, match="lặp vòng"):
        statistics.load_indicator_set(path)


# ---------------------------------------------------------------- Phụ lục 4 rules


def _row(**over: int | str) -> FieldRow:
    base: dict[str, int | str] = dict(
        field="Hộ tịch", received=240, online=206, carried_over=5, direct=29, resolved=230,
        on_time=230, late=0, pending=10, not_yet_due=10, overdue=0)
    return FieldRow.model_validate({**base, **over})


@pytest.mark.parametrize(("change", "column", "words"), [
    ({"online": 207}, "received", "Trực tuyến (207)"),
    ({"late": 1}, "resolved", "Quá hạn (1)"),
    ({"pending": 11, "not_yet_due": 11}, "received", "Đang giải quyết - Tổng số (11)"),
    ({"overdue": 2}, "pending", "Quá hạn (2)"),
])
def test_parts_must_add_up(change: dict[str, int], column: str, words: str) -> None:
    problems = field_problems([_row(**change)], lines=[7])
    assert problems, change
    assert problems[0].row == 7 and problems[0].column == column
    assert words in problems[0].message_vi


def test_negative_and_carried_over() -> None:
    neg = field_problems([_row(overdue=-1, pending=9, not_yet_due=10)])
    assert neg[0].column == "overdue" and "số âm" in neg[0].message_vi
    before = [_row(pending=4, not_yet_due=4, resolved=236, on_time=236)]
    got = field_problems([_row()], previous=before)
    assert got[0].column == "carried_over"
    assert "kỳ trước còn 4" in got[0].message_vi and "ghi 5" in got[0].message_vi
    assert field_problems([_row()], previous=[_row(pending=5, not_yet_due=5, resolved=235,
                                                   on_time=235)]) == []


# ---------------------------------------------------------------- import


@pytest.fixture
def unit_rt(rt: Runtime) -> Runtime:
    api.load_units_file(rt, DEMO_BUNDLE / "units.yaml")
    return rt


def _stored(rt: Runtime) -> list[tuple[object, ...]]:
    with rt.db.read() as s:
        return [(r.unit_id, r.period, r.payload, r.version, r.updated_by)
                for r in s.scalars(select(PeriodStatistics).order_by(PeriodStatistics.id))]


def test_csv_and_xlsx_samples_read_the_same() -> None:
    for n in (4, 5):
        csv_t = statistics.read_table(DATA / f"phu-luc-{n}.csv")
        xlsx_t = statistics.read_table(SAMPLES / f"phu-luc-{n}-mau.xlsx")
        assert csv_t.problems == [] and xlsx_t.problems == []
        assert csv_t.table == xlsx_t.table == n
        assert csv_t.fields == xlsx_t.fields and csv_t.procedures == xlsx_t.procedures
    assert len(statistics.read_table(DATA / "phu-luc-5.csv").procedures) == 30


def test_import_refuses_a_sheet_that_does_not_add_up(unit_rt: Runtime, tmp_path: Path) -> None:
    statistics.import_file(unit_rt, "vinh-thanh", P, DATA / "phu-luc-4.csv", "cán bộ")
    before = _stored(unit_rt)
    assert len(before) == 1
    bad = tmp_path / "phu-luc-4.csv"
    text = (DATA / "phu-luc-4.csv").read_text(encoding="utf-8")
    # Hộ tịch: 206 online → 207; the totals row still says 233.
    bad.write_text(text.replace("3,Hộ tịch,240,206", "3,Hộ tịch,240,207"), encoding="utf-8")
    with pytest.raises(StatisticsRefused) as err:
        statistics.import_file(unit_rt, "vinh-thanh", P, bad, "cán bộ")
    located = {(p.row, p.column) for p in err.value.located}
    assert (4, "received") in located  # line 4 of the file: the Hộ tịch row
    assert (7, "online") in located  # the totals row: 233 but the rows give 234
    first = next(p for p in err.value.located if p.row == 4)
    assert first.column_title == "C (Tiếp nhận - Tổng số)"
    assert "phu-luc-4.csv: Phụ lục 4, dòng 4, cột 'C (Tiếp nhận - Tổng số)'" in first.label_vi
    assert _stored(unit_rt) == before  # nothing saved


def test_import_refuses_xlsx_naming_cell(unit_rt: Runtime, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(SAMPLES / "phu-luc-4-mau.xlsx")
    ws = wb.active
    assert ws is not None
    ws["K5"] = 12  # Chứng thực: 'Chưa đến hạn' 0 → 12 (row 5 of the sheet)
    ws["D6"] = "hai trăm"
    path = tmp_path / "sai.xlsx"
    wb.save(path)
    with pytest.raises(StatisticsRefused) as err:
        statistics.import_file(unit_rt, "vinh-thanh", P, path, "cán bộ")
    got = {(p.row, p.column_title) for p in err.value.located}
    assert (6, "D (Tiếp nhận - Trực tuyến)") in got  # not a number
    assert (5, "J (Đang giải quyết - Tổng số)") in got  # 0 ≠ 12 + 0
    assert _stored(unit_rt) == []


def test_phu_luc_6_values_are_checked(unit_rt: Runtime) -> None:
    statistics.set_values(unit_rt, "vinh-thanh", P, {"1.3.1": "6", "7.2.4.e": "4.136.000"},
                          {"1.2": "Đang triển khai"}, "cán bộ")
    before = _stored(unit_rt)
    cases = {
        "1.3.1": ("-1", "số âm"),
        "7.1.2.a": ("5", "không áp dụng cho cấp xã"),
        "1.5": ("2", "chỉ được chọn 0, 1"),
        "3.2.2": ("98,5", "do hệ thống tính"),
        "1.3.2.b": ("1", "lớn hơn dòng 1.3.2.a"),
        "9.9": ("1", "không có chỉ tiêu"),
        "1.5.a": ("1,5", "số nguyên"),
        "1.1": ("6", "do hệ thống tính"),  # counted from the register since 2022-08-r2
        "1.4.a": ("0", "do hệ thống tính"),
    }
    for code, (value, words) in cases.items():
        extra = {"1.3.2.a": "0"} if code == "1.3.2.b" else {}
        with pytest.raises(StatisticsRefused) as err:
            statistics.set_values(unit_rt, "vinh-thanh", P, {code: value, **extra}, {}, "x")
        assert any(p.column == code and words in p.message_vi for p in err.value.located), code
        assert _stored(unit_rt) == before
    got = statistics.load_input(unit_rt, "vinh-thanh", P)
    assert got.values == {"1.3.1": Decimal(6), "7.2.4.e": Decimal(4136000)}


def test_carried_over_checked_against_the_previous_quarter(unit_rt: Runtime, tmp_path: Path
                                                           ) -> None:
    statistics.import_file(unit_rt, "vinh-thanh", "2023-Q3", DATA / "phu-luc-4.csv", "x")
    q4 = tmp_path / "q4.csv"
    q4.write_text("STT,Lĩnh vực,Tiếp nhận - Tổng số,Tiếp nhận - Trực tuyến,Tiếp nhận - Kỳ trước "
                  "chuyển qua,Tiếp nhận - Trực tiếp/bưu chính,Đã giải quyết - Tổng số,Đã giải "
                  "quyết - Đúng hạn,Đã giải quyết - Quá hạn,Đang giải quyết - Tổng số,Đang giải "
                  "quyết - Chưa đến hạn,Đang giải quyết - Quá hạn\n"
                  "1,Hộ tịch,100,50,3,47,100,100,0,0,0,0\n", encoding="utf-8")
    with pytest.raises(StatisticsRefused) as err:
        statistics.import_file(unit_rt, "vinh-thanh", "2023-Q4", q4, "x")
    p = err.value.located[0]
    assert (p.row, p.column) == (2, "carried_over")
    assert "kỳ trước còn 10 hồ sơ đang giải quyết" in p.message_vi
    assert statistics.previous_period("2024-Q1") == "2023-Q4"
    assert statistics.previous_period("2023-Y") is None


def test_frozen_with_the_snapshot_and_then_refused(unit_rt: Runtime) -> None:
    from engine.domain.plan_loading import load_plans

    load_plans(unit_rt, ["vinh-thanh"], [DEMO_BUNDLE / "cchc-2023.yaml"])
    for name in ("phu-luc-4.csv", "phu-luc-5.csv", "phu-luc-6.yaml"):
        statistics.import_file(unit_rt, "vinh-thanh", P, DATA / name, "x")
    from engine.clock import VN_TZ

    unit_rt.clock.set("2023-09-20T09:00")  # type: ignore[attr-defined]
    snap = api.take_snapshot(unit_rt, "vinh-thanh", P, freeze=True, taken_by="Chủ tịch")
    sheet = statistics.frozen_sheet(unit_rt, "vinh-thanh", P)
    assert sheet is not None and sheet.frozen and sheet.content_hash
    assert sheet.taken_at == snap.taken_at or sheet.taken_at.astimezone(VN_TZ) == \
        snap.taken_at.astimezone(VN_TZ)
    assert statistics.sheet_hash(sheet) == sheet.content_hash
    assert sheet.indicator("3.2.2").text == "100"
    assert sheet.indicator("7.2.3").text == "20,55"
    assert sheet.indicator("1.2.a").text == "23" and sheet.indicator("1.2.b").text == "0"
    with unit_rt.db.read() as s:
        assert len(list(s.scalars(select(StatisticsSnapshot)))) == 1
    before = _stored(unit_rt)
    with pytest.raises(Conflict, match="đã chốt"):
        statistics.set_values(unit_rt, "vinh-thanh", P, {"1.3.1": "7"}, {}, "x")
    assert _stored(unit_rt) == before


def test_input_model_round_trips() -> None:
    inp = StatisticsInput(fields=[_row()], values={"1.1": Decimal(6)})
    assert StatisticsInput.model_validate_json(inp.model_dump_json()) == inp


# ---------------------------------------------------------------- rows the engine counts

UPPER_PLAN = """\
schema_version: 1
id: cai-thien-par-2023
kind: other
year: 2023
issuer: khanh-hoa
title: Kế hoạch cải thiện Chỉ số PAR INDEX năm 2023 của UBND tỉnh Khánh Hòa
issued_by: Kế hoạch số 250/KH-UBND ngày 10/01/2023 của UBND tỉnh Khánh Hòa
appendix:
  number: 7
  title: KẾT QUẢ THỰC HIỆN NHIỆM VỤ UBND TỈNH GIAO
  layout: sections
sections:
  - code: I
    title: Nhiệm vụ được giao
    tasks:
      - {code: 1, text: Rà soát thủ tục hành chính, deadline: Trước ngày 30/6/2023}
      - {code: 2, text: Báo cáo kết quả tự đánh giá, deadline: Trước ngày 31/7/2023}
      - {code: 3, text: Cập nhật trang thông tin điện tử, deadline: Trước ngày 31/12/2023}
"""


def test_engine_counts_documents_issued_and_tasks_assigned_from_above(
        unit_rt: Runtime, tmp_path: Path) -> None:
    from engine.domain.plan_loading import load_plans

    upper = tmp_path / "par-2023.yaml"
    upper.write_text(UPPER_PLAN, encoding="utf-8")
    load_plans(unit_rt, ["vinh-thanh"], [DEMO_BUNDLE / "cchc-2023.yaml", upper])
    officer = api.Actor("Trần Thị Mỹ Hạnh", "officer")

    def done(plan: str, code: str, on: tuple[int, int], *docs: str) -> None:
        api.transition(unit_rt, api.TaskKey("vinh-thanh", plan, code), "complete", officer,
                       evidence=list(docs), result="Đã thực hiện", on=date(2023, *on))

    # the commune's own Công văn in the period counts; its plan of January (before the period),
    # its Báo cáo (not a directive type of row 1.1) and the city's Công văn do not
    done("cchc-2023", "4", (7, 28), "Công văn số 910/UBND ngày 28/7/2023",
         "Kế hoạch số 12/KH-UBND ngày 10/01/2023")
    done("cchc-2023", "7", (8, 1), "Báo cáo số 5/BC-UBND ngày 01/8/2023",
         "Công văn số 4580/UBND-NV ngày 14/6/2023 của UBND thành phố Nha Trang")
    done("cai-thien-par-2023", "1", (7, 10), "Báo cáo số 6/BC-UBND ngày 10/7/2023")  # late
    done("cai-thien-par-2023", "3", (8, 1), "Báo cáo số 7/BC-UBND ngày 01/8/2023")  # on time
    # task 2 (due 31/7) is not done: overdue at the cut-off
    sheet = statistics.build_sheet(unit_rt, api.take_snapshot(unit_rt, "vinh-thanh", P))
    row = sheet.indicator("1.1")
    assert (row.kind, row.text) == ("engine", "1")
    assert "Công văn số 910/UBND ngày 28/7/2023" in row.trace
    assert "UBND xã Vĩnh Thạnh" in row.trace and "12/KH-UBND" not in row.trace
    got = {c: sheet.indicator(c).value for c in ("1.4.a", "1.4.b", "1.4.c", "1.4.d")}
    assert got == {"1.4.a": 3, "1.4.b": 1, "1.4.c": 1, "1.4.d": 1}
    assert "do UBND tỉnh Khánh Hòa ban hành" in sheet.indicator("1.4.a").trace
    assert sheet.indicator("1.2.a").value == 23  # the CCHC plan is not counted as assigned


def test_no_upper_issuer_counts_nothing_and_says_why(unit_rt: Runtime) -> None:
    from engine.domain.plan_loading import load_plans

    load_plans(unit_rt, ["vinh-thanh"], [DEMO_BUNDLE / "cchc-2023.yaml"])
    sheet = statistics.build_sheet(unit_rt, api.take_snapshot(unit_rt, "vinh-thanh", P))
    row = sheet.indicator("1.4.a")
    assert row.value == 0
    assert "không có kế hoạch nào do cấp trên ban hành" in row.trace
    assert "chưa khai báo cơ quan ban hành 'issuer'" in row.trace


def test_values_typed_before_a_row_became_counted_are_dropped_on_the_next_save(
        unit_rt: Runtime) -> None:
    from engine.directory.units import get_unit

    with unit_rt.db.transaction() as s:  # as version 2022-08 stored it: 1.1 typed
        s.add(PeriodStatistics(unit_id=get_unit(s, "vinh-thanh").id, period=P,
                               payload='{"values": {"1.1": "6", "1.3.1": "4"}}', version=1,
                               updated_at=unit_rt.now(), updated_by="x"))
    statistics.set_values(unit_rt, "vinh-thanh", P, {"1.3.2.a": "2"}, {}, "x")
    got = statistics.load_input(unit_rt, "vinh-thanh", P)
    assert got.values == {"1.3.1": Decimal(4), "1.3.2.a": Decimal(2)}


def test_a_frozen_count_that_the_engine_now_counts_differently_is_named() -> None:
    from datetime import datetime

    from engine.reporting.snapshot.model import UnitHeader
    from engine.reporting.statistics.check import recomputed_findings
    from engine.reporting.statistics.model import IndicatorRow, IndicatorSetRef

    iset = statistics.default_indicator_set()

    def sheet(n: int) -> statistics.StatisticsSheet:
        return statistics.StatisticsSheet(
            unit=UnitHeader(slug="x", kind="xã", name="X"), period=P, period_label="Quý III",
            start=date(2023, 6, 14), end=date(2023, 9, 13), taken_at=datetime(2023, 9, 20),
            indicator_set=IndicatorSetRef(id=iset.id, version=iset.version, content_hash="",
                                          title=""),
            indicators=[IndicatorRow(code="1.1", stt="1.1", label="", unit="", kind="engine",
                                     value=Decimal(n), text=str(n), trace=f"{n} văn bản")])

    assert recomputed_findings(sheet(1), sheet(1), iset) == []
    [f] = recomputed_findings(sheet(1), sheet(2), iset)
    assert f.code == "engine_fact_changed" and "đã chốt 1 nhưng hệ thống nay tính được 2" in \
        f.message_vi
