"""`cchc stats`: Phụ lục 4–6 statistics of a period — import, type, show.

Why thin, like `cli.main`: each command parses its arguments, calls one engine function and
prints the result; a refusal lists every problem with its row, column and reason and nothing is
saved (exit code 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.lazy import lazy
from cli.output import console, emit_json
from cli.session import session
from cli.vietnamese import ByOpt, DbOpt, JsonOpt, UnitArg, vi_typer
from engine import reporting

if TYPE_CHECKING:
    from engine import api
    from engine.reporting import StatisticsSheet
    from engine.runtime import Runtime
else:
    api = lazy("engine.api")

stats_app = vi_typer("Số liệu thống kê Phụ lục 4–6 (hồ sơ TTHC, chỉ tiêu CCHC)")

PeriodOpt = Annotated[str, typer.Option(metavar="KỲ", help="Kỳ báo cáo, ví dụ 2023-Q3")]


@stats_app.command("import")
def stats_import(
    unit: UnitArg,
    file: Annotated[Path, typer.Argument(metavar="TỆP", help="Tệp .xlsx, .csv hoặc .yaml")],
    period: PeriodOpt, by: ByOpt = "cán bộ",
    db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Nhập Phụ lục 4 hoặc 5 từ tệp .xlsx/.csv của hệ thống một cửa, hoặc Phụ lục 6 từ .yaml.

    Mẫu cột: docs/statistics.md. Sai một ô là không ghi gì, và được báo dòng, cột, lý do.
    """
    with session(json_, db) as rt:
        table, rows = reporting.import_statistics_file(rt, unit, period, file, by)
        if json_:
            emit_json({"unit": unit, "period": period, "appendix": table, "rows": rows})
        else:
            what = "chỉ tiêu" if table == 6 else "dòng"
            console.print(f"Đã nhập Phụ lục {table} kỳ {period}: {rows} {what} từ {file.name}.")


@stats_app.command("set")
def stats_set(
    unit: UnitArg,
    values: Annotated[list[str], typer.Argument(
        metavar="MÃ=GIÁ_TRỊ", help="Ví dụ 1.3.1=6 7.2.4.e=4.136.000")],
    period: PeriodOpt, by: ByOpt = "cán bộ", db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Nhập chỉ tiêu Phụ lục 6 (để trống sau dấu = để xóa)."""
    pairs: dict[str, str] = {}
    for item in values:
        code, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"'{item}' phải có dạng MÃ=GIÁ_TRỊ")
        pairs[code.strip()] = value
    with session(json_, db) as rt:
        reporting.set_statistics_values(rt, unit, period, pairs, {}, by)
        if json_:
            emit_json({"unit": unit, "period": period, "set": pairs})
        else:
            console.print(f"Đã ghi {len(pairs)} chỉ tiêu Phụ lục 6 kỳ {period}.")


@stats_app.command("show")
def stats_show(
    unit: UnitArg, period: PeriodOpt,
    rollup: Annotated[bool, typer.Option(
        "--tong-hop", help="Phụ lục 6 của cơ quan tổng hợp (tỉnh, thành phố): cộng số liệu đã "
        "chốt của các xã, phường trực thuộc; xã, phường chưa chốt không được cộng")] = False,
    out: Annotated[Path | None, typer.Option(
        metavar="THƯ_MỤC", help="Cùng --tong-hop: ghi tong-hop-phu-luc-6.docx, "
        "tong-hop-phu-luc-6.xlsx, tong-hop-thong-ke.json vào thư mục này")] = None,
    db: DbOpt = None, json_: JsonOpt = False,
) -> None:
    """Phụ lục 6 của kỳ: giá trị, cách tính và ghi chú của từng chỉ tiêu."""
    if out is not None and not rollup:
        raise typer.BadParameter("--out chỉ dùng cùng --tong-hop", param_hint="--out")
    with session(json_, db) as rt:
        if rollup:
            _show_rollup(rt, unit, period, out, json_)
            return
        sheet = reporting.take_sheet(rt, api.take_snapshot(rt, unit, period))
        if json_:
            emit_json(sheet.model_dump(mode="json"))
            return
        state = "đã chốt" if sheet.frozen else "chưa chốt"
        console.print(f"{sheet.unit.display} — {sheet.period_label}, {state}")
        _print_sheet(sheet)


def _print_sheet(sheet: StatisticsSheet) -> None:
    table = Table("STT", "Chỉ tiêu", "Đơn vị tính", "Số liệu", "Cách tính", "Ghi chú")
    for r in sheet.indicators:
        table.add_row(r.stt, r.label, r.unit, r.text, r.trace, r.note)
    console.print(table)


def _show_rollup(rt: Runtime, body: str, period: str, out: Path | None, as_json: bool) -> None:
    stats = reporting.body_statistics(rt, body, period)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name in reporting.ROLLUP_FILES:
            (out / name).write_bytes(reporting.body_statistics_file(stats, name) or b"")
    if as_json:
        emit_json(stats.as_dict())
        return
    sheet = stats.sheet
    body_name = sheet.unit.display[:1].upper() + sheet.unit.display[1:]  # "Thành phố Nha Trang"
    console.print(f"{body_name} — {sheet.period_label}: tổng hợp {len(stats.summed)} "
                  f"đơn vị đã chốt; {len(stats.pending)} đơn vị chưa chốt (không cộng)")
    if stats.pending:
        console.print("Chưa chốt: " + ", ".join(u.name for u in stats.pending))
    _print_sheet(sheet)
    if out is not None:
        for name in reporting.ROLLUP_FILES:
            console.print(f"  {out / name}")
