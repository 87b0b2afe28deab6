"""Benchmark: our appendix exporters against a bare python-docx/openpyxl script, same cells.

Why: the quarter-end run exports 3,321 units (3 .docx + 3 .xlsx + 1 JSON each). This prints the
median time of one unit's files with `engine.reporting.export` and with a minimal script writing
the same
text and the same merges with no formatting, their ratio (target ≤ 1.5) and the peak RSS — and
each part's own ratio, since the aggregate hides a slow part behind a fast one: .docx against
bare python-docx, .xlsx against bare openpyxl (target ≤ 1.0), JSON against `json.dumps` of the
same `model_dump` without indentation or sorting, its fastest form (target ≤ 1.0).

    .venv/bin/python bench/bench_export.py [-n 30]

The snapshot is the size of Vĩnh Thạnh's real one (23 + 54 + 47 tasks). If plan files are in
plans/data/vinh-thanh-2023/ they are used for the task texts; otherwise texts of realistic
length are synthesised from report vocabulary (deterministically).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime

from docx import Document
from openpyxl import Workbook

from engine.reporting.export import build_table, export_docx, export_json, export_xlsx, texts
from engine.reporting.snapshot.model import (
    AppendixSnapshot,
    Snapshot,
    SnapshotGroup,
    SnapshotTask,
    UnitHeader,
)

_VOCABULARY = (
    "cải cách hành chính thủ tục công khai minh bạch kịp thời đầy đủ rà soát đơn giản hóa "
    "tiếp nhận giải quyết hồ sơ trực tuyến một cửa liên thông cán bộ công chức người dân "
    "doanh nghiệp tổ chức Ủy ban nhân dân xã Vĩnh Thạnh Trang thông tin điện tử kế hoạch "
    "quyết định công văn báo cáo số ngày năm 2023 thực hiện triển khai tuyên truyền phổ biến "
    "pháp luật ngân sách dự toán quyết toán chuyển đổi số dịch vụ công chất lượng hiệu quả "
    "trách nhiệm người đứng đầu phản ánh kiến nghị khiếu nại tố cáo đối thoại giám sát "
    "kiểm tra đánh giá xếp loại đào tạo bồi dưỡng chuyên môn nghiệp vụ theo quy định của "
    "cấp trên thành phố Nha Trang tỉnh Khánh Hòa phòng Nội vụ đảm bảo nâng cao tăng cường"
)
WORDS = tuple(_VOCABULARY.split(" "))

# Task counts per section / sub-dimension, as in the Quý III/2023 report of xã Vĩnh Thạnh.
P1_SECTIONS = {
    "I": ("CẢI CÁCH THỂ CHẾ", 2),
    "II": ("CẢI CÁCH TTHC", 6),
    "III": ("CẢI CÁCH TỔ CHỨC BỘ MÁY", 1),
    "IV": ("CẢI CÁCH CHẾ ĐỘ CÔNG VỤ", 3),
    "V": ("CẢI CÁCH TÀI CHÍNH CÔNG", 2),
    "VI": ("XÂY DỰNG VÀ PHÁT TRIỂN CHÍNH QUYỀN ĐIỆN TỬ, CHÍNH QUYỀN SỐ", 2),
    "VII": ("CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH", 7),
}
P3_SECTIONS = {
    "I": ("Nâng cao vai trò lãnh đạo, chỉ đạo, điều hành, tính năng động, tiên phong", 9),
    "II": ("Nâng cao chất lượng xây dựng, thực thi thể chế, chính sách", 7),
    "III": ("Tiếp tục đẩy mạnh cải cách TTHC, đổi mới cơ chế một cửa, một cửa liên thông", 7),
    "IV": ("Tiếp tục đẩy mạnh cải cách tổ chức bộ máy chính quyền địa phương", 5),
    "V": ("Tiếp tục đẩy mạnh cải cách chế độ công vụ, xây dựng đội ngũ cán bộ", 9),
    "VI": ("Đổi mới cơ chế quản lý tài chính công, đẩy mạnh xã hội hóa", 3),
    "VII": ("Xây dựng và phát triển chính quyền điện tử, chính quyền số", 7),
}
PAPI: dict[str, tuple[str, list[tuple[str | None, int]]]] = {
    "1": (
        "Tham gia của người dân ở cấp cơ sở",
        [
            ("Tri thức công dân", 1),
            ("Cơ hội tham gia", 3),
            ("Chất lượng bầu cử", 1),
            ("Đóng góp tự nguyện", 4),
        ],
    ),
    "2": (
        "Công khai, minh bạch trong việc ra quyết định",
        [
            ("Tiếp cận thông tin", 1),
            ("Công khai, minh bạch danh sách hộ nghèo", 1),
            ("Công khai, minh bạch ngân sách xã", 1),
            ("Công khai, minh bạch quy hoạch, kế hoạch sử dụng đất và bảng giá đất", 3),
        ],
    ),
    "3": (
        "Trách nhiệm giải trình với người dân",
        [
            ("Mức độ và hiệu quả tương tác với chính quyền địa phương", 2),
            ("Giải đáp khiếu nại, tố cáo, phản ánh của người dân", 2),
            ("Tiếp cận dịch vụ tư pháp", 1),
        ],
    ),
    "4": (
        "Kiểm soát tham nhũng trong khu vực công",
        [
            ("Kiểm soát tham nhũng trong chính quyền địa phương", 2),
            ("Kiểm soát tham nhũng trong cung ứng dịch vụ công", 4),
            ("Công bằng trong tuyển dụng nhân lực vào khu vực công", 1),
            ("Quyết tâm chống tham nhũng", 1),
        ],
    ),
    "5": ("Thủ tục hành chính công", [(None, 1)] * 7),
    "6": (
        "Cung ứng dịch vụ công",
        [
            ("Y tế công lập", 4),
            ("Giáo dục tiểu học công lập", 5),
            ("Cơ sở hạ tầng căn bản", 2),
            ("An ninh, trật tự tại địa bàn khu dân cư", 1),
        ],
    ),
    "7": (
        "Quản trị môi trường",
        [
            ("Nghiêm túc trong bảo vệ môi trường", 1),
            ("Chất lượng không khí", 1),
            ("Chất lượng nước", 1),
        ],
    ),
    "8": (
        "Quản trị điện tử",
        [
            ("Sử dụng công nghệ thông tin điện tử của chính quyền địa phương", 1),
            ("Tiếp cận và sử dụng internet tại địa phương", 1),
            ("Phúc đáp của chính quyền qua cổng thông tin điện tử", 2),
        ],
    ),
}


class Texts:
    """Deterministic Vietnamese-looking text with the seed's lengths and list items."""

    def __init__(self, seed: int = 2023) -> None:
        self.rng = random.Random(seed)

    def sentence(self, lo: int, hi: int) -> str:
        n = self.rng.randint(lo, hi)
        words = [self.rng.choice(WORDS) for _ in range(n)]
        return " ".join(words).capitalize()

    def task(self) -> str:
        if self.rng.random() < 0.2:  # "- …" items, as many PAPI tasks are written
            return "\n".join(f"- {self.sentence(8, 25)};" for _ in range(self.rng.randint(2, 3)))
        return self.sentence(15, 70) + "."

    def result(self) -> str:
        roll = self.rng.random()
        if roll < 0.1:
            return ""
        if roll < 0.4:
            return "\n".join(f"- {self.sentence(10, 40)}." for _ in range(self.rng.randint(2, 4)))
        return self.sentence(10, 90) + "."

    def done(self) -> bool:
        return self.rng.random() < 0.7


def _task(t: Texts, code: str, text: str | None = None) -> SnapshotTask:
    done = t.done()
    return SnapshotTask(
        code=code,
        text=text or t.task(),
        state="done" if done else "in_progress",
        done=done,
        result=t.result(),
    )


def _sections(t: Texts, spec: dict[str, tuple[str, int]]) -> list[SnapshotGroup]:
    groups, n = [], 0
    for code, (title, count) in spec.items():
        tasks = []
        for _ in range(count):
            n += 1
            tasks.append(_task(t, str(n)))
        groups.append(SnapshotGroup(code=code, title=title, tasks=tasks))
    return groups


def _papi(t: Texts) -> list[SnapshotGroup]:
    dims = []
    for code, (title, subs) in PAPI.items():
        groups = []
        for i, (sub_title, count) in enumerate(subs, start=1):
            sub = f"{code}.{i}"
            tasks = [_task(t, f"{sub}.{k}") for k in range(1, count + 1)]
            groups.append(SnapshotGroup(code=sub, title=sub_title, tasks=tasks))
        dims.append(SnapshotGroup(code=code, title=title, groups=groups))
    return dims


def _from_plans(t: Texts) -> list[AppendixSnapshot] | None:
    """Appendices from the YAML plans, when the demo bundle has them (results synthesised)."""
    try:
        from plans import DEMO_BUNDLE, DataFileError, PlanSpec, SectionSpec, load_plan
    except ImportError:
        return None
    plans: list[PlanSpec] = []
    for path in sorted(DEMO_BUNDLE.glob("*.yaml")):
        try:
            plans.append(load_plan(path))
        except (DataFileError, ValueError):
            continue  # obligations, units, replays: not plans
    if not plans:
        return None

    def group(s: SectionSpec) -> SnapshotGroup:
        return SnapshotGroup(
            code=s.code,
            title=s.title,
            groups=[group(c) for c in s.sections],
            tasks=[_task(t, k.code, k.text) for k in s.tasks],
        )

    return [
        AppendixSnapshot(
            plan_id=p.id,
            number=p.appendix.number or 0,
            title=p.appendix.title,
            layout=p.appendix.layout,
            groups=[group(s) for s in p.sections],
        )
        for p in sorted(plans, key=lambda p: p.appendix.number or 0)
    ]


def make_snapshot() -> tuple[Snapshot, str]:
    t = Texts()
    appendices = _from_plans(t)
    source = "plans/data/vinh-thanh-2023"
    if appendices is None:
        source = "synthesised"
        appendices = [
            AppendixSnapshot(
                plan_id="cchc-2023",
                number=1,
                title="Kết quả triển khai Kế hoạch cải cách hành chính năm 2023",
                layout="sections",
                groups=_sections(t, P1_SECTIONS),
            ),
            AppendixSnapshot(
                plan_id="papi-2023",
                number=2,
                title="Kết quả triển khai bộ khung nhiệm vụ cải thiện và nâng cao chỉ số PAPI",
                layout="dimensions",
                groups=_papi(t),
            ),
            AppendixSnapshot(
                plan_id="kl91-2023",
                number=3,
                title="Kết quả triển khai Kết luận số 91-KL/TU\n"
                "ngày 18/10/2022 của Ban Thường vụ Tỉnh ủy Khánh Hòa",
                layout="sections",
                groups=_sections(t, P3_SECTIONS),
            ),
        ]
    snapshot = Snapshot(
        unit=UnitHeader(slug="vinh-thanh", kind="xã", name="Vĩnh Thạnh"),
        period="2023-Q3",
        period_label="Quý III năm 2023",
        start=date(2023, 6, 14),
        end=date(2023, 9, 13),
        taken_at=datetime(2023, 9, 14, 8, 30),
        appendices=appendices,
    )
    return snapshot, source


# ----------------------------------------------------------------------------- ours


def ours(snapshot: Snapshot) -> list[bytes]:
    out = [export_docx(snapshot, a) for a in snapshot.appendices]
    out += [export_xlsx(snapshot, a) for a in snapshot.appendices]
    out.append(export_json(snapshot))
    return out


# ----------------------------------------------------------------------------- raw baseline
# Same heading lines, same table text, same merges; no styles, fonts, widths or print setup.


def _heading_lines(snapshot: Snapshot, appendix: AppendixSnapshot) -> list[str]:
    org1, org2 = texts.org_lines(snapshot.unit)
    return [
        org1,
        texts.NATION,
        org2,
        texts.MOTTO,
        texts.appendix_heading(appendix),
        "\n".join(texts.title_lines(appendix)),
        texts.period_line(snapshot),
        texts.attachment_line(snapshot),
    ]


def raw_docx(snapshot: Snapshot, appendix: AppendixSnapshot) -> bytes:
    table_model = build_table(appendix)
    doc = Document()
    for line in _heading_lines(snapshot, appendix):
        doc.add_paragraph(line)
    ncols = len(table_model.columns)
    table = doc.add_table(rows=0, cols=ncols)
    table.style = "Table Grid"
    grid = []
    for row in table_model.rows:
        cells = table.add_row().cells
        grid.append(cells)
        for cell in row.cells:
            if not cell.continued:
                cells[cell.col].text = "\n".join(cell.lines)
    for r, row in enumerate(table_model.rows):
        for cell in row.cells:
            if cell.colspan > 1 or cell.rowspan > 1:
                end = grid[r + cell.rowspan - 1][cell.col + cell.colspan - 1]
                grid[r][cell.col].merge(end)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def raw_xlsx(snapshot: Snapshot, appendix: AppendixSnapshot) -> bytes:
    table_model = build_table(appendix)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for line in _heading_lines(snapshot, appendix):
        ws.append([line])
    first = ws.max_row + 1
    for r, row in enumerate(table_model.rows):
        for cell in row.cells:
            if not cell.continued:
                value = cell.number if cell.number is not None else "\n".join(cell.lines)
                ws.cell(row=first + r, column=cell.col + 1, value=value)
            if cell.colspan > 1 or cell.rowspan > 1:
                ws.merge_cells(
                    start_row=first + r,
                    start_column=cell.col + 1,
                    end_row=first + r + cell.rowspan - 1,
                    end_column=cell.col + cell.colspan,
                )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def raw(snapshot: Snapshot) -> list[bytes]:
    out = [raw_docx(snapshot, a) for a in snapshot.appendices]
    out += [raw_xlsx(snapshot, a) for a in snapshot.appendices]
    out.append(json.dumps(snapshot.model_dump(mode="json"), ensure_ascii=False).encode())
    return out


# ----------------------------------------------------------------------------- timing


def part_timings(snapshot: Snapshot) -> dict[str, tuple[Callable[[], object],
                                                       Callable[[], object], str]]:
    """Each part: (ours, the bare baseline, the target on their ratio or "")."""
    a = snapshot.appendices
    return {
        "docx x3": (lambda: [export_docx(snapshot, x) for x in a],
                    lambda: [raw_docx(snapshot, x) for x in a], ""),
        "xlsx x3": (lambda: [export_xlsx(snapshot, x) for x in a],
                    lambda: [raw_xlsx(snapshot, x) for x in a], "<= 1.0"),
        "json": (lambda: export_json(snapshot),
                 lambda: json.dumps(snapshot.model_dump(mode="json"), ensure_ascii=False),
                 "<= 1.0"),
    }


def part_figures(section: str, snapshot: Snapshot, n: int) -> None:
    """Each part's median, its baseline's and their ratio, as figures (see support.figure)."""
    from support import figure

    for name, (ours_fn, bare_fn, target) in part_timings(snapshot).items():
        o, r = median_ms(ours_fn, n), median_ms(bare_fn, n)
        figure(section, f"{name}: ours", o, "ms")
        figure(section, f"{name}: bare", r, "ms")
        figure(section, f"{name}: ratio ours/bare", o / r, "x", target=target,
               met=(o / r <= float(target.split()[-1])) if target else None)


def median_ms(fn: Callable[[], object], n: int) -> float:
    fn()  # warm-up: imports, template parsing, the cached docx base
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30, help="repetitions (default 30)")
    args = parser.parse_args()
    snapshot, source = make_snapshot()
    counts = " + ".join(str(a.total) for a in snapshot.appendices)
    print(f"snapshot: {counts} tasks ({source}); {args.n} repetitions, median per unit")
    rss_start = peak_rss_mb()

    ours_ms = median_ms(lambda: ours(snapshot), args.n)
    rss_ours = peak_rss_mb()
    raw_ms = median_ms(lambda: raw(snapshot), args.n)
    sizes = [len(b) for b in ours(snapshot)]

    print(f"engine.reporting.export   : {ours_ms:8.1f} ms per unit (3 docx + 3 xlsx + json)")
    print(f"raw docx/openpyxl: {raw_ms:8.1f} ms per unit (same cells and merges, no styling)")
    print(f"ratio ours/raw  : {ours_ms / raw_ms:8.2f}  (target <= 1.5)")
    part_figures("exporters alone, per part", snapshot, args.n)
    minutes = ours_ms * 3321 / 1000 / 60
    print(f"3,321 units, one process: ~{minutes:.1f} min with engine.reporting.export")
    print(f"file sizes (bytes): {sizes}")
    print(
        f"peak RSS: {rss_start:.0f} MB after setup, "
        f"{rss_ours:.0f} MB after engine.reporting.export, "
        f"{peak_rss_mb():.0f} MB at the end"
    )


if __name__ == "__main__":
    main()
