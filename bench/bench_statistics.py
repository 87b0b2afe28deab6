"""Benchmark: Phụ lục 4–6 for every commune (import + compute + export), and the province
summary for a 100-commune province.

Part 1, national: 3,321 communes, each with the year's CCHC plan and its own generated one-stop-
shop export — a Phụ lục 4 .csv (5–9 fields, distinct numbers that add up), a Phụ lục 5 .csv
(18–30 procedures with distinct names and codes) and a Phụ lục 6 .yaml (the ~55 inputs). Timed
separately, summed over the communes:
  import  = `statistics.import_file` × 3 (parse, validate every rule, save — one transaction each)
  compute = `statistics.build_sheet` (Phụ lục 6 from the inputs and the task snapshot)
  export  = `write_statistics` (phu-luc-4..6 .docx and .xlsx, thong-ke.json)
Yardsticks (the strongest fair baselines: the same work without the engine's rules around it):
  import  vs `csv.reader` + int() of the same files and `yaml.safe_load` (no checks, no DB)
  export  vs bare openpyxl (`Workbook`, `ws.append` of the same cells, `save`) + bare
             python-docx (`add_table` of the same cells, `save`) + `json.dumps` of the sheet
Each part's ratio is printed on its own.

Part 2, the province summary: 100 communes under one province, half frozen (with Phụ lục 4),
half live (a third of those without statistics). Median of `province_summary` and of its
.xlsx/.docx/JSON exports, against the per-commune path (`take_snapshot` + `take_sheet` for each
commune, what a summary built from the per-unit API would cost); and of `body_statistics` (the
province's Phụ lục 6 summed from the frozen communes) and its three files.

    .venv/bin/python bench/bench_statistics.py [--units 3321] [--db sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import statistics as stats
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import yaml
from docx import Document
from openpyxl import Workbook
from support import (
    PERIOD,
    add_common_arguments,
    bench_database,
    commune_slugs,
    exit_cleanly_on_sigterm,
    figure,
    heading,
    kinds,
    note,
    open_bench_runtime,
    unit_specs,
)

from engine import api
from engine.directory.units import upsert_units
from engine.domain.bulk import load_plans_bulk
from engine.reporting import statistics
from engine.reporting.snapshot.build import DefinitionCache, build_snapshot
from engine.reporting.statistics.export import pages, write_statistics
from engine.reporting.statistics.tables import FIELD_COLUMNS, PROCEDURE_COLUMNS
from engine.reporting.summary import (
    ROLLUP_FILES,
    body_statistics,
    body_statistics_file,
    province_summary,
    summary_docx,
    summary_json,
    summary_xlsx,
)
from engine.runtime import Runtime
from plans import DEMO_BUNDLE, UnitSpec

SECTION_1 = "Phụ lục 4–6 for every commune"
SECTION_2 = "province summary, 100 communes"
CCHC = [DEMO_BUNDLE / "cchc-2023.yaml"]
FIELDS = ("Bảo trợ xã hội", "Chứng thực", "Hộ tịch", "Người có công", "Thi đua – Khen thưởng",
          "Đất đai", "Xây dựng", "Tư pháp", "Văn hóa", "Giáo dục", "Y tế", "Lao động",
          "Nông nghiệp", "Tài nguyên nước", "Giao thông")
VERBS = ("Cấp", "Đăng ký", "Xác nhận", "Chứng thực", "Giải quyết", "Thay đổi", "Cải chính")
OBJECTS = ("bản sao trích lục hộ tịch", "giấy xác nhận tình trạng hôn nhân", "khai sinh",
           "khai tử", "kết hôn", "chữ ký trong giấy tờ", "trợ cấp xã hội", "mai táng phí",
           "hộ nghèo", "người khuyết tật", "quyền sử dụng đất", "giấy phép xây dựng")


def _p4(rng: random.Random) -> list[list[str]]:
    rows = []
    for i, name in enumerate(rng.sample(FIELDS, rng.randint(5, 9)), start=1):
        online, carried, direct = rng.randint(0, 300), rng.randint(0, 8), rng.randint(0, 900)
        received = online + carried + direct
        pending = rng.randint(0, min(received, 20))
        overdue = rng.randint(0, pending)
        resolved = received - pending
        late = rng.randint(0, min(resolved, 3))
        rows.append([str(i), name, str(received), str(online), str(carried), str(direct),
                     str(resolved), str(resolved - late), str(late), str(pending),
                     str(pending - overdue), str(overdue)])
    return rows


def _p5(rng: random.Random, salt: int) -> list[list[str]]:
    rows = []
    for i in range(1, rng.randint(18, 30) + 1):
        total = rng.randint(0, 700)
        name = f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} (mã hồ sơ {salt}-{i})"
        code = f"0{rng.randint(10, 16)}.{rng.randint(1, 9):02d}.{rng.randint(1, 99):03d}"
        rows.append([str(i), name, code, rng.choice(FIELDS), str(rng.randint(2, 4)),
                     str(rng.randint(0, 1)), str(rng.randint(0, total)), str(total)])
    return rows


def _p6(rng: random.Random) -> dict[str, object]:
    seed = yaml.safe_load((DEMO_BUNDLE / "thong-ke-2023-q3" / "phu-luc-6.yaml").read_text(
        encoding="utf-8"))
    values = {}
    for code, v in seed["values"].items():
        n = int(str(v).replace(".", ""))
        values[code] = n if n in (0, 1) else max(0, n + rng.randint(-n // 4 - 1, n // 4 + 1))
    # keep the bounds (at_most) of the indicator set
    for low, high in (("7.1.2.c", "7.1.2.d"), ("7.2.1.b", "7.2.1.a"), ("7.2.1.c", "7.2.1.b"),
                      ("7.2.2.c", "7.2.2.b"), ("7.2.4.b", "7.2.4.a"), ("7.2.4.c", "7.2.4.b")):
        values[low] = min(values[low], values[high])
    return {"schema_version": 1, "indicator_set": "thong-ke-cchc", "values": values,
            "notes": {"1.2": f"Đang triển khai ({rng.randint(1, 99)})"}}


def write_inputs(folder: Path, i: int) -> list[Path]:
    rng = random.Random(i)
    out = []
    for name, head, rows in (("phu-luc-4.csv", FIELD_COLUMNS, _p4(rng)),
                             ("phu-luc-5.csv", PROCEDURE_COLUMNS, _p5(rng, i))):
        path = folder / f"{i}-{name}"
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["STT", *(t for _, t in head)])
        w.writerows(rows)
        path.write_text(buf.getvalue(), encoding="utf-8")
        out.append(path)
    p6 = folder / f"{i}-phu-luc-6.yaml"
    p6.write_text(yaml.safe_dump(_p6(rng), allow_unicode=True), encoding="utf-8")
    return [*out, p6]


def bare_import(files: list[Path]) -> int:
    n = 0
    for f in files[:2]:
        for row in list(csv.reader(f.open(encoding="utf-8")))[1:]:
            n += sum(int(c) for c in row[2:] if c.isdigit())
    n += len(yaml.safe_load(files[2].read_text(encoding="utf-8"))["values"])
    return n


def bare_export(sheet: statistics.StatisticsSheet, out: Path) -> None:
    """The same cells with nothing around them: openpyxl and python-docx as they come."""
    for head, table in pages(sheet):
        grid = [[" ".join(c.lines) for c in row.cells] for row in table.rows]
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        for row in grid:
            ws.append(row)
        wb.save(out / f"bare-{head.number}.xlsx")
        doc = Document()
        t = doc.add_table(rows=0, cols=len(table.columns))
        for row in grid:
            cells = t.add_row().cells
            for c, text in zip(cells, row, strict=False):
                c.text = text
        doc.save(str(out / f"bare-{head.number}.docx"))
    (out / "bare.json").write_text(json.dumps(sheet.model_dump(mode="json"), ensure_ascii=False,
                                              sort_keys=True, indent=2), encoding="utf-8")


def national(rt: Runtime, kind: str, n: int) -> None:
    heading(f"{SECTION_1}: {n} communes, {kind}")
    slugs = commune_slugs(n)
    t0 = time.perf_counter()
    upsert_units(rt, unit_specs(n))
    load_plans_bulk(rt, slugs, CCHC)
    note(f"set-up: {n} communes with the CCHC plan in {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory(prefix="cchc_stats_") as tmp:
        _national(rt, kind, n, slugs, Path(tmp))


def _national(rt: Runtime, kind: str, n: int, slugs: list[str], folder: Path) -> None:
    inputs = [write_inputs(folder, i) for i in range(n)]
    cache = DefinitionCache()
    t_imp = t_bare_imp = t_comp = t_exp = t_bare_exp = 0.0
    sample = max(1, n // 100)  # the bare exporters run on every 100th commune (slow)
    bare_units = 0
    for i, (slug, files) in enumerate(zip(slugs, inputs, strict=True)):
        t = time.perf_counter()
        for f in files:
            statistics.import_file(rt, slug, PERIOD, f, "bench")
        t_imp += time.perf_counter() - t
        t = time.perf_counter()
        bare_import(files)
        t_bare_imp += time.perf_counter() - t
        snap = build_snapshot(rt, slug, PERIOD, cache=cache)
        t = time.perf_counter()
        sheet = statistics.build_sheet(rt, snap)
        t_comp += time.perf_counter() - t
        out = folder / slug
        t = time.perf_counter()
        write_statistics(sheet, out)
        t_exp += time.perf_counter() - t
        if i % sample == 0:
            t = time.perf_counter()
            bare_export(sheet, out)
            t_bare_exp += time.perf_counter() - t
            bare_units += 1
    figure(SECTION_1, f"import P4+P5+P6, {n} communes ({kind})", t_imp, "s")
    figure(SECTION_1, "  per commune", 1000 * t_imp / n, "ms")
    figure(SECTION_1, "  ratio to csv+yaml parsing alone (no checks, no DB)", t_imp / t_bare_imp,
           "x")
    figure(SECTION_1, f"compute Phụ lục 6, {n} communes", t_comp, "s")
    figure(SECTION_1, "  per commune", 1000 * t_comp / n, "ms")
    figure(SECTION_1, f"export 6 files + JSON, {n} communes", t_exp, "s")
    figure(SECTION_1, "  per commune", 1000 * t_exp / n, "ms")
    per_bare = t_bare_exp / bare_units
    figure(SECTION_1, f"  ratio to bare openpyxl+python-docx+json ({bare_units} communes)",
           (t_exp / n) / per_bare, "x")
    figure(SECTION_1, "import + compute + export, all communes", t_imp + t_comp + t_exp, "s")


def province(rt: Runtime, kind: str) -> None:
    n = 100
    heading(f"{SECTION_2}, {kind}")
    specs = [UnitSpec.model_validate({"slug": "tinh-thu", "name": "Thử", "kind": "tỉnh",
                                      "report_cutoff_day": 13})]
    slugs = [f"xa-thu-{i:03d}" for i in range(n)]
    specs += [UnitSpec.model_validate({"slug": s, "name": f"Thử {i}", "kind": "xã",
                                       "parent": "tinh-thu"}) for i, s in enumerate(slugs)]
    upsert_units(rt, specs)
    load_plans_bulk(rt, slugs, CCHC)
    with tempfile.TemporaryDirectory(prefix="cchc_sum_") as tmp:
        for i, slug in enumerate(slugs):
            if i % 6 != 5:  # a third of the live half has no statistics
                path = write_inputs(Path(tmp), 10_000 + i)[0]
                statistics.import_file(rt, slug, PERIOD, path, "x")
    for i, slug in enumerate(slugs):
        if i % 2 == 0:
            api.take_snapshot(rt, slug, PERIOD, freeze=True, taken_by="bench")

    def median(fn: Callable[[], object], k: int = 7) -> float:
        times = []
        for _ in range(k):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return 1000 * stats.median(times)

    summ = province_summary(rt, "tinh-thu", PERIOD)
    assert len(summ.rows) == n and summ.frozen == n // 2
    ours = median(lambda: province_summary(rt, "tinh-thu", PERIOD))
    figure(SECTION_2, f"province_summary, {n} communes ({kind})", ours, "ms")
    figure(SECTION_2, "  .xlsx", median(lambda: summary_xlsx(summ)), "ms")
    figure(SECTION_2, "  .docx", median(lambda: summary_docx(summ)), "ms")
    figure(SECTION_2, "  JSON", median(lambda: summary_json(summ)), "ms")

    def per_commune() -> None:
        for slug in slugs:
            statistics.take_sheet(rt, api.take_snapshot(rt, slug, PERIOD))

    naive = median(per_commune, 3)
    figure(SECTION_2, "  per-commune path (take_snapshot + take_sheet each)", naive, "ms")
    figure(SECTION_2, "  ratio ours / per-commune path", ours / naive, "x")
    # The province's own Phụ lục 6: the frozen communes' sheets summed, ratios recomputed.
    rolled = body_statistics(rt, "tinh-thu", PERIOD)
    figure(SECTION_2, f"body_statistics (Phụ lục 6 roll-up of {len(rolled.summed)} frozen, "
           f"{len(rolled.pending)} listed)", median(
               lambda: body_statistics(rt, "tinh-thu", PERIOD)), "ms")
    for name in ROLLUP_FILES:
        figure(SECTION_2, f"  {name}", median(partial(body_statistics_file, rolled, name)),
               "ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_arguments(parser)
    parser.set_defaults(db="sqlite")
    args = parser.parse_args()
    exit_cleanly_on_sigterm()
    for kind in kinds(args.db):
        with bench_database(kind) as url:
            rt = open_bench_runtime(url)
            try:
                national(rt, kind, args.units)
            finally:
                rt.db.dispose()
        with bench_database(kind) as url:
            rt = open_bench_runtime(url)
            try:
                province(rt, kind)
            finally:
                rt.db.dispose()


if __name__ == "__main__":
    main()
