"""Phụ lục 4–6 of Q3-2023 rebuilt from the demo's data files and compared with the seed, row by
row. The only differences are the ones the engine makes on purpose, each listed with its reason:
ratios are computed by the one rounding rule (the seed's 98,5 / 20,54 / 100 were typed by hand),
a ratio over zero prints '-', and a ratio or total the seed left blank is filled when its rows
are known. The whole round trip (import, freeze, export, read back) runs on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import SEED, scratch_pg_database
from seed_statistics import read_seed, seed_fields, seed_indicators, seed_procedures

from engine import api
from engine.demo import DemoResult, run_demo
from engine.reporting import statistics
from engine.reporting.statistics import StatisticsSheet, format_number_vi
from engine.reporting.statistics.tables import FIELD_NUMBERS
from engine.runtime import open_runtime

# indicator code -> (the seed's Số liệu, ours, why)
CORRECTED: dict[str, tuple[str, str, str]] = {
    "1.2": ("", "65,22", "15 of Phụ lục 1's 23 tasks done: computed, the seed left it blank"),
    "1.3.2": ("100", "-", "0 problems found, 0 handled: a ratio over 0 is not 100 %"),
    "2.2.b": ("0", "-", "0 / 0"),
    "2.3.b": ("0", "-", "0 / 0"),
    "3.1.5": ("", "213", "the total of its rows (only the commune row applies)"),
    "3.2.2": ("98,5", "100", "1.117 of 1.117 resolved on time"),
    "3.3": ("", "-", "0 / 0"),
    "4.1.e": ("0", "", "neither the 2015 staff nor the cuts since 2016 are given"),
    "6.1": ("0", "", "the disbursement plan is not given"),
    "7.1.2": ("100", "83,22", "744 of 894 documents sent electronically"),
    "7.1.2.b": ("100", "83,22", "744 / 894"),
    "7.2.1": ("", "100", "28 of 28 eligible procedures online"),
    "7.2.3": ("20,54", "20,55", "233 / 1.134 = 20,5467… rounded half up, not truncated"),
    "7.2.4": ("", "100", "17 of 17 procedures with fees payable online"),
}
# Rows the engine counts itself (1.1 from the register, 1.4.a–d from plans issued by upper
# levels): not listed above with a figure; where the seed's typed figure differs from the
# engine's, the seed check must name it (test_the_seed_rows_the_engine_counts_are_checked).
ENGINE_COUNTED = ("1.1", "1.4.a", "1.4.b", "1.4.c", "1.4.d")


@pytest.fixture(scope="module")
def seed_text() -> str:
    return read_seed()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None: the demo's own SQLite file; else a throw-away PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    with scratch_pg_database(str(request.getfixturevalue("pg_admin_url")), "cchc_s") as url:
        yield url


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, db_url: str | None) -> DemoResult:
    return run_demo(tmp_path_factory.mktemp("demo-stats"), seed=SEED, url=db_url)


@pytest.fixture(scope="module")
def sheet(demo: DemoResult) -> StatisticsSheet:
    rt = open_runtime(demo.database_url)
    try:
        got = statistics.frozen_sheet(rt, "vinh-thanh", "2023-Q3")
    finally:
        rt.db.dispose()
    assert got is not None, "the demo freezes Phụ lục 4–6 with the snapshot"
    return got


def test_phu_luc_4_row_by_row(seed_text: str, sheet: StatisticsSheet) -> None:
    seed = seed_fields(seed_text)
    assert [r[1] for r in seed[:-1]] == [f.field for f in sheet.fields]
    for printed, row in zip(seed, sheet.fields, strict=False):
        assert printed[2:] == [format_number_vi(getattr(row, k)) for k in FIELD_NUMBERS]
    totals = sheet.field_totals()
    assert seed[-1][1] == "Tổng cộng"
    assert seed[-1][2:] == [format_number_vi(totals[k]) for k in FIELD_NUMBERS]
    assert (totals["received"], totals["resolved"], totals["pending"]) == (1134, 1117, 17)


def test_phu_luc_5_row_by_row(seed_text: str, sheet: StatisticsSheet) -> None:
    seed = seed_procedures(seed_text)
    assert len(seed) == len(sheet.procedures) == 30
    for i, (printed, p) in enumerate(zip(seed, sheet.procedures, strict=True), start=1):
        assert printed == [str(i), p.name, p.code, p.field, str(p.level), str(p.integrated),
                           str(p.online), str(p.total)]


def test_phu_luc_6_row_by_row(seed_text: str, sheet: StatisticsSheet) -> None:
    seed = seed_indicators(seed_text)
    ours = sheet.indicators
    assert len(seed) == len(ours) == 145
    differs = {}
    for printed, row in zip(seed, ours, strict=True):
        assert printed[:3] == [row.stt, row.label, row.unit], row.code
        assert printed[4] == row.note, row.code
        if printed[3] != row.text and row.code not in ENGINE_COUNTED:
            differs[row.code] = (printed[3], row.text)
    assert differs == {code: (s, o) for code, (s, o, _why) in CORRECTED.items()}


def _own_documents_in_q3(demo: DemoResult, types: list[str]) -> list[str]:
    """The register read directly: documents of the commune with no other issuer, dated in
    the period 14/6/2023–13/9/2023."""
    from sqlalchemy import create_engine, text

    engine = create_engine(demo.database_url)
    try:
        with engine.connect() as db:
            rows = db.execute(text(
                "SELECT d.type_code, d.rendered FROM documents d JOIN units u "
                "ON u.id = d.unit_id WHERE u.slug = 'vinh-thanh' AND d.issuer IS NULL "
                "AND d.issued_on BETWEEN '2023-06-14' AND '2023-09-13'")).all()
    finally:
        engine.dispose()
    return [r for t, r in rows if t in types]


def test_the_seed_rows_the_engine_counts_are_checked(seed_text: str, demo: DemoResult,
                                                     sheet: StatisticsSheet) -> None:
    iset = statistics.default_indicator_set()
    by = iset.by_code()
    assert all(by[c].kind == "engine" for c in ENGINE_COUNTED)
    documents = _own_documents_in_q3(demo, by["1.1"].document_types or [])
    assert documents, "the demo's register has the commune's own Q3 documents"
    assert sheet.indicator("1.1").value == len(documents)
    assert all(d in sheet.indicator("1.1").trace for d in documents)
    # No plan of the demo names an upper issuer: nothing assigned by the city or the province.
    assert [sheet.indicator(c).value for c in ENGINE_COUNTED[1:]] == [0, 0, 0, 0]
    seed = dict(zip([r.code for r in sheet.indicators],
                    (r[3] for r in seed_indicators(seed_text)), strict=True))
    named = {f.task: f.message_vi for f in demo.seed_findings
             if f.code == "statistic_not_engine"}
    for code in ENGINE_COUNTED:
        ours = sheet.indicator(code).text
        if seed[code] == ours:
            assert code not in named, code
        else:
            assert f"ghi {seed[code]} nhưng hệ thống tính được {ours}" in named[code], code
    assert "1.1" in named  # the seed's 6 are the city's documents it disseminated


def test_the_seeds_statistical_mistakes_are_named(seed_text: str, demo: DemoResult) -> None:
    stats = [f for f in demo.seed_findings if f.code == "statistic_differs"]
    text = "\n".join(f.message_vi for f in stats)
    assert "3.2.2" in text and "98,5" in text and "1.117 / 1.117" in text and "100" in text
    assert "7.2.3" in text and "20,54" in text and "233 / 1.134" in text and "20,55" in text


def test_demo_sheet_is_what_the_api_gives(demo: DemoResult, sheet: StatisticsSheet) -> None:
    rt = open_runtime(demo.database_url)
    try:
        live = statistics.take_sheet(rt, api.take_snapshot(rt, "vinh-thanh", "2023-Q3"))
        # frozen: recomputing the sheet now gives the same rows (nothing changed since)
        assert statistics.build_sheet(rt, api.take_snapshot(rt, "vinh-thanh", "2023-Q3")
                                      ).indicators == sheet.indicators
    finally:
        rt.db.dispose()
    assert live == sheet
    assert Path(demo.database).exists() == (demo.url == "")


# ---------------------------------------------------------------- the files, read back


def _docx_rows(path: Path, head_rows: int) -> list[list[str]]:
    from docx import Document

    table = Document(str(path)).tables[1]  # tables[0] is the NĐ 30 header block
    out = []
    for row in table.rows[head_rows:]:
        cells: list[str] = []
        for cell in row.cells:  # python-docx repeats a spanned cell: keep one per grid column
            cells.append(cell.text)
        out.append(cells)
    return out


def _xlsx_rows(path: Path, head_rows: int) -> list[list[str]]:
    from openpyxl import load_workbook

    ws = load_workbook(path).active
    assert ws is not None
    rows = [["" if v is None else v for v in r] for r in ws.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r and r[0] == "STT") + head_rows
    return [[_shown(v) for v in r] for r in rows[start:]]


def _shown(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return format_number_vi(Decimal(str(value)))


@pytest.mark.parametrize("suffix", ["docx", "xlsx"])
def test_phu_luc_4_file_is_the_seeds_table(seed_text: str, demo: DemoResult, suffix: str
                                           ) -> None:
    out = demo.database.parent
    read = _docx_rows if suffix == "docx" else _xlsx_rows
    assert read(out / f"phu-luc-4.{suffix}", 3) == seed_fields(seed_text)


@pytest.mark.parametrize("suffix", ["docx", "xlsx"])
def test_phu_luc_5_file_is_the_seeds_table(seed_text: str, demo: DemoResult, suffix: str
                                           ) -> None:
    out = demo.database.parent
    read = _docx_rows if suffix == "docx" else _xlsx_rows
    assert read(out / f"phu-luc-5.{suffix}", 1) == seed_procedures(seed_text)


@pytest.mark.parametrize("suffix", ["docx", "xlsx"])
def test_phu_luc_6_file_is_the_seeds_table_but_for_the_corrections(
        seed_text: str, demo: DemoResult, sheet: StatisticsSheet, suffix: str) -> None:
    out = demo.database.parent
    read = _docx_rows if suffix == "docx" else _xlsx_rows
    got = read(out / f"phu-luc-6.{suffix}", 2)
    seed = seed_indicators(seed_text)
    assert len(got) == len(seed) == len(sheet.indicators)
    for printed, ours, row in zip(seed, got, sheet.indicators, strict=True):
        if row.code in CORRECTED:
            printed = [*printed[:3], CORRECTED[row.code][1], printed[4]]
        elif row.code in ENGINE_COUNTED:  # checked against the register above
            printed = [*printed[:3], row.text, printed[4]]
        assert ours == printed, row.code


def test_statistics_json_carries_the_hash(demo: DemoResult, sheet: StatisticsSheet) -> None:
    import json

    data = json.loads((demo.database.parent / "thong-ke.json").read_bytes())
    assert data["content_hash"] == sheet.content_hash and data["frozen"] is True
    assert data["field_totals"]["received"] == 1134
    assert StatisticsSheet.model_validate({k: v for k, v in data.items()
                                           if k != "field_totals"}) == sheet
