"""What a city reviewer would send back: the checks behind `cchc report check`.

Why a separate pass: the workflow refuses bad input as it is typed, but a report also gathers
data imported from paper, documents cited in free text and, when checking a hand-made report,
totals typed by hand. This pass reads all of it the way a reviewer does and names each problem
with its place.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.clock import local_date
from engine.directory.units import get_unit
from engine.domain.documents.cleaning import unify
from engine.domain.documents.mentions import Mention, find_mentions
from engine.domain.documents.ref import DocumentKey, DocumentRef
from engine.errors import ValidationFailed
from engine.reporting.reader import ReadAppendix, appendix_regions, read_report
from engine.reporting.snapshot.build import corrections
from engine.reporting.snapshot.findings import Finding, Place, Source
from engine.reporting.snapshot.model import Snapshot, SnapshotCorrection
from engine.reporting.statistics.check import check_statistics
from engine.runtime import Runtime
from engine.storage.models import Plan
from vntext.dates import format_date_vi
from vntext.text import fold


def _at(place: Place) -> dict[str, Any]:
    return {"plan": place.plan, "task": place.task, "appendix": place.appendix,
            "line": place.line}


def check_report(rt: Runtime, snap: Snapshot, *, against: Path | None = None) -> list[Finding]:
    if against is not None and not against.is_file():
        raise ValidationFailed(
            f"Không kiểm tra được: không tìm thấy tệp '{against}'",
            f"cannot check: no file '{against}'", field="against", value=str(against))
    out: list[Finding] = []
    with rt.db.read() as session:
        issued = {p.id: p.issued_on for p in session.scalars(select(Plan))}
    today = local_date(snap.taken_at)
    own_issuer = fold(snap.unit.display)
    mentions: list[tuple[Place, Mention]] = []
    recorded: dict[Place, list[Mention]] = {}
    for a in snap.appendices:
        no_evidence: list[str] = []
        plan_issued = issued.get(a.plan_id)
        for t in a.all_tasks():
            place = Place(a.number, a.plan_id, t.code)
            label = place.label_vi
            if t.done and not t.evidence:
                no_evidence.append(t.code)
            if t.done and not t.result.strip():
                out.append(Finding(
                    "done_without_result", "error",
                    f"{label}: báo cáo 'Đã thực hiện' nhưng cột Kết quả để trống",
                    f"{place.label_en}: done with an empty result", **_at(place)))
            mentions.extend((place, m) for m in find_mentions(t.result, today))
            # The documents the task itself names (its directive) are its basis, not evidence.
            own_text = {m.ref.key for m in find_mentions(t.text, today) if m.ref is not None}
            recorded[place] = find_mentions("\n".join(t.evidence), today)
            for m in recorded[place]:
                if m.ref is None:
                    continue
                if m.ref.issued_on > snap.end:
                    out.append(Finding(
                        "evidence_after_cutoff", "error",
                        f"{label}: văn bản minh chứng {m.text} ngày sau ngày chốt "
                        f"{format_date_vi(snap.end)}",
                        f"{place.label_en}: evidence dated after the cut-off", **_at(place)))
                if plan_issued and _older_than_plan(m.ref, plan_issued, own_issuer, own_text):
                    out.append(Finding(
                        "evidence_before_plan", "warning",
                        f"{label}: văn bản minh chứng {m.text} do chính đơn vị ban hành năm "
                        f"{m.ref.issued_on.year}, trước năm của kế hoạch ({plan_issued.year}): "
                        "văn bản của năm trước chưa chứng minh nhiệm vụ đã làm trong năm nay",
                        f"{place.label_en}: the unit's own evidence is from "
                        f"{m.ref.issued_on.year}, before the plan's year {plan_issued.year}",
                        **_at(place)))
        if no_evidence:
            out.append(Finding(
                "done_without_evidence", "warning",
                f"Phụ lục {a.number}: {len(no_evidence)} nhiệm vụ báo cáo 'Đã thực hiện' nhưng "
                f"không có văn bản minh chứng (nhiệm vụ {', '.join(no_evidence)})",
                f"appendix {a.number}: {len(no_evidence)} tasks done without an evidence "
                "document", a.plan_id, None, appendix=a.number, tasks=tuple(no_evidence)))
    out.extend(_mention_findings(mentions, "snapshot", recorded))
    for a in snap.appendices:
        out.extend(_totals(a.number, a.plan_id, a.total, a.done, a.not_done, None, "snapshot"))
    out.extend(_correction_findings(rt, snap))
    if against is not None:
        out.extend(_against(snap, against, today))
    out.extend(check_statistics(rt, snap, against))  # Phụ lục 4–6 across appendices
    return out


def _older_than_plan(ref: DocumentRef, plan_issued: date, own_issuer: str,
                     named_by_task: set[DocumentKey]) -> bool:
    """Evidence worth a note: a document of the unit itself from a year before the plan's, that
    the task does not name as its basis. A directive of a higher level (a Chỉ thị of the Thủ
    tướng, a Kết luận of the Tỉnh ủy) or one the task implements is older by nature, and a
    document of the plan's own year issued days before the plan is work done early."""
    own = ref.issuer is None or own_issuer in fold(ref.issuer)
    return own and ref.issued_on.year < plan_issued.year and ref.key not in named_by_task


def _correction_findings(rt: Runtime, snap: Snapshot) -> list[Finding]:
    """Corrections made during this period (reported here) and, for a frozen period, the
    corrections of it made after it was frozen (its files do not show them)."""
    later: list[SnapshotCorrection] = []
    if snap.frozen:
        with rt.db.read() as session:
            later = corrections(session, get_unit(session, snap.unit.slug).id,
                                period=snap.period)
    out: list[Finding] = []
    for c, here in [(c, True) for c in snap.corrections] + [(c, False) for c in later]:
        what = (f"Đính chính số liệu kỳ {c.period} đã chốt: nhiệm vụ {c.task} ({c.plan_id}), "
                f"'{c.event}' ngày {format_date_vi(c.effective_on)}, do {c.actor} ghi ngày "
                f"{format_date_vi(c.recorded_on)}; lý do: {c.reason}")
        if not here:
            what += " — tệp của kỳ đã chốt không thay đổi, đính chính được báo cáo ở kỳ sau"
        out.append(Finding(
            "period_corrected", "warning", what,
            f"correction of the frozen period {c.period}: task {c.task} ({c.plan_id}), "
            f"'{c.event}' on {c.effective_on.isoformat()} by {c.actor} on "
            f"{c.recorded_on.isoformat()}; reason: {c.reason}", plan=c.plan_id, task=c.task))
    return out


def _placed_mentions(segments: list[tuple[Place, str]], today: date
                     ) -> list[tuple[Place, Mention]]:
    """The citations of all segments, read as one document (a later citation of a document
    may borrow the date of an earlier one, NĐ 30), each tagged with the segment it is in.

    Table cells are separate clauses: a tab ends a citation like a line break does.
    """
    parts: list[str] = []
    bounds: list[tuple[int, Place]] = []
    pos = 0
    for place, text in segments:
        text = unify(text).replace("\t", "\n")
        bounds.append((pos, place))
        parts.append(text)
        pos += len(text) + 1
    whole = "\n".join(parts)
    starts = [b for b, _ in bounds]
    out: list[tuple[Place, Mention]] = []
    for m in find_mentions(whole, today):
        i = bisect_right(starts, m.start) - 1
        out.append((bounds[max(i, 0)][1], m))
    return out


_CITED = re.compile(r"số\s*:?\s*0*(\d+)\s*/\s*([^\s,;.]+)", re.IGNORECASE)


def _recorded_as(m: Mention, evidence: list[Mention]) -> Mention | None:
    """The task's evidence document a refused citation in its Kết quả stands for: same number,
    same issuing organ (the last part of the symbol: 'UBND' in 'QĐ-UBND' and 'KH-UBND')."""
    cited = _CITED.search(m.text)
    if cited is None:
        return None
    organ = cited.group(2).upper().rsplit("-", 1)[-1]
    for e in evidence:
        if e.ref is not None and e.ref.number == int(cited.group(1)) \
                and e.ref.symbol.upper().rsplit("-", 1)[-1] == organ:
            return e
    return None


def _mention_findings(mentions: list[tuple[Place, Mention]], source: Source,
                      recorded: dict[Place, list[Mention]] | None = None) -> list[Finding]:
    """Refused citations and numbers cited with several dates. `recorded` (a snapshot's tasks)
    gives each row's evidence documents: a Kết quả quoting one of them in a refused form is a
    note — the document is on record correctly, only the quoted wording needs fixing."""
    out: list[Finding] = []
    by_key: dict[tuple[object, ...], dict[date, list[Place]]] = defaultdict(
        lambda: defaultdict(list))
    first: dict[tuple[object, ...], Mention] = {}
    for place, m in mentions:
        on_record = _recorded_as(m, (recorded or {}).get(place, [])) if m.error else None
        if m.error is not None and on_record is not None:
            out.append(Finding(
                "citation_differs_from_evidence", "warning",
                f"{place.label_vi}: cột Kết quả ghi '{m.text}' — {m.error.message_vi}; văn bản "
                f"minh chứng đã ghi đúng là '{on_record.text}': nên sửa câu chữ cho khớp",
                f"{place.label_en}: the result quotes '{m.text}' — {m.error.message_en}; the "
                f"evidence records it as '{on_record.text}'", source=source, **_at(place)))
        elif m.error is not None:
            out.append(Finding(
                "bad_reference", "error",
                f"{place.label_vi}: '{m.text}' — {m.error.message_vi}",
                f"{place.label_en}: '{m.text}' — {m.error.message_en}",
                source=source, **_at(place)))
        elif m.ref is not None:
            first.setdefault(m.ref.key, m)
            if place not in by_key[m.ref.key][m.ref.issued_on]:
                by_key[m.ref.key][m.ref.issued_on].append(place)
    for key, dates in by_key.items():
        if len(dates) < 2:
            continue
        ref = first[key].ref
        assert ref is not None
        listed_vi = "; ".join(
            f"ngày {format_date_vi(d)} ({'; '.join(p.label_vi for p in places)})"
            for d, places in sorted(dates.items()))
        listed_en = "; ".join(
            f"{d.isoformat()} ({'; '.join(p.label_en for p in places)})"
            for d, places in sorted(dates.items()))
        out.append(Finding(
            "number_reused", "error",
            f"Văn bản số {ref.render_number()} được ghi với {len(dates)} ngày khác "
            f"nhau: {listed_vi}",
            f"document {ref.render_number()} is cited with {len(dates)} different "
            f"dates: {listed_en}", source=source))
    return out


def _totals(number: int, plan: str | None, rows_total: int, rows_done: int, rows_nd: int,
            stated: tuple[int | None, int | None, int | None] | None,
            source: Source) -> list[Finding]:
    if rows_done + rows_nd != rows_total:
        return [Finding("rows_inconsistent", "error",
                        f"Phụ lục {number}: {rows_total} nhiệm vụ nhưng {rows_done} đã và "
                        f"{rows_nd} chưa thực hiện",
                        f"appendix {number}: rows do not add up", plan, None, source,
                        appendix=number)]
    if stated is None:
        return []
    s_total, s_done, s_nd = stated
    if (s_total, s_done, s_nd) != (rows_total, rows_done, rows_nd):
        return [Finding(
            "totals_mismatch", "error",
            f"Phụ lục {number}: dòng tổng ghi '{s_total} nhiệm vụ | {_n(s_done)} | {_n(s_nd)}'"
            f" nhưng theo các dòng là '{rows_total} nhiệm vụ | {rows_done:02d} | "
            f"{rows_nd:02d}'",
            f"appendix {number}: the totals line says {s_total}/{s_done}/{s_nd}, the rows "
            f"give {rows_total}/{rows_done}/{rows_nd}", plan, None, source, appendix=number)]
    return []


def _n(v: int | None) -> str:
    return "?" if v is None else f"{v:02d}"


def _against(snap: Snapshot, path: Path, today: date) -> list[Finding]:
    out: list[Finding] = []
    read: list[ReadAppendix] = read_report(path)
    ours = {a.number: a for a in snap.appendices}
    plans = {n: a.plan_id for n, a in ours.items()}
    for ra in read:
        plan = plans.get(ra.number)
        stated = ((ra.totals.stated_total, ra.totals.stated_done, ra.totals.stated_not_done)
                  if ra.totals else None)
        out.extend(_totals(ra.number, plan, len(ra.rows), ra.done, ra.not_done, stated,
                           "against"))
        for row in ra.rows:
            if row.done and not row.result.strip():
                place = Place(ra.number, plan, row.code, row.lines[0] if row.lines else None)
                out.append(Finding(
                    "done_without_result", "error",
                    f"{place.label_vi}: báo cáo 'Đã thực hiện' nhưng cột Kết quả để trống",
                    f"{place.label_en}: done with an empty result", source="against",
                    **_at(place)))
        if ra.number in ours:
            mine = {t.code: t for t in ours[ra.number].all_tasks()}
            for row in ra.rows:
                t = mine.get(row.code)
                if t is not None and t.done != row.done:
                    place = Place(ra.number, plan, row.code)
                    out.append(Finding(
                        "state_differs", "error",
                        f"{place.label_vi}: báo cáo ghi "
                        f"'{'Đã' if row.done else 'Chưa'} thực hiện', hệ thống ghi "
                        f"'{'Đã' if t.done else 'Chưa'} thực hiện'",
                        f"{place.label_en}: report and engine disagree",
                        source="against", **_at(place)))
    if path.suffix.lower() == ".txt":
        segments = _text_segments(path.read_text(encoding="utf-8"), read, plans)
    else:  # a .docx/.xlsx report: the citations in its task rows
        segments = [(Place(ra.number, plans.get(ra.number), row.code),
                     f"{row.text}\n{row.result}") for ra in read for row in ra.rows]
    out.extend(_mention_findings(_placed_mentions(segments, today), "against"))
    return out


def _text_segments(text: str, read: list[ReadAppendix], plans: dict[int, str]
                   ) -> list[tuple[Place, str]]:
    """Each line of a text report with its place: the task row it belongs to (a row split
    by a page break spans several lines), the appendix it is in, or the body."""
    row_of: dict[int, tuple[int, str]] = {}
    for ra in read:
        for row in ra.rows:
            for n in row.lines:
                row_of[n] = (ra.number, row.code)
    region_of: dict[int, int] = {}
    for region in appendix_regions(text):
        for n in range(region.first, region.last + 1):
            region_of[n] = region.number
    segments: list[tuple[Place, str]] = []
    for i, line in enumerate(text.splitlines(), start=1):
        if i in row_of:
            number, code = row_of[i]
            place = Place(number, plans.get(number), code, i)
        elif i in region_of:
            place = Place(region_of[i], plans.get(region_of[i]), None, i)
        else:
            place = Place(None, None, None, i)
        segments.append((place, line))
    return segments
