"""What a city reviewer would send back: the checks behind `cchc report check`.

Why a separate pass: the workflow refuses bad input as it is typed, but a report also gathers
data imported from paper, documents cited in free text and, when checking a hand-made report,
totals typed by hand. This pass reads all of it the way a reviewer does and names each problem
with its place.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select

from engine.clock import local_date
from engine.documents.mentions import Mention, find_mentions
from engine.report_reader import ReadAppendix, read_report
from engine.runtime import Runtime
from engine.snapshot.model import Snapshot
from engine.storage.models import Plan
from engine.text import format_date_vi

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message_vi: str
    message_en: str
    plan: str | None = None
    task: str | None = None
    source: Literal["snapshot", "against"] = "snapshot"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_report(rt: Runtime, snap: Snapshot, *, against: Path | None = None) -> list[Finding]:
    out: list[Finding] = []
    with rt.db.read() as session:
        issued = {p.id: p.issued_on for p in session.scalars(select(Plan))}
    today = local_date(snap.taken_at)
    mentions: list[tuple[str, str, Mention]] = []
    for a in snap.appendices:
        for t in a.all_tasks():
            label = f"Phụ lục {a.number}, nhiệm vụ {t.code}"
            if t.done and not t.evidence:
                out.append(Finding(
                    "done_without_evidence", "warning",
                    f"{label}: báo cáo 'Đã thực hiện' nhưng không có văn bản minh chứng",
                    f"{label}: done without an evidence document", a.plan_id, t.code))
            if t.done and not t.result.strip():
                out.append(Finding(
                    "done_without_result", "error",
                    f"{label}: báo cáo 'Đã thực hiện' nhưng cột Kết quả để trống",
                    f"{label}: done with an empty result", a.plan_id, t.code))
            for m in find_mentions(t.result, today):
                mentions.append((a.plan_id, t.code, m))
            plan_issued = issued.get(a.plan_id)
            for m in find_mentions("\n".join(t.evidence), today):
                if m.ref is None:
                    continue
                if m.ref.issued_on > snap.end:
                    out.append(Finding(
                        "evidence_after_cutoff", "error",
                        f"{label}: văn bản minh chứng {m.text} ngày sau ngày chốt "
                        f"{format_date_vi(snap.end)}",
                        f"{label}: evidence dated after the cut-off", a.plan_id, t.code))
                if plan_issued and m.ref.issued_on < plan_issued:
                    out.append(Finding(
                        "evidence_before_plan", "warning",
                        f"{label}: văn bản minh chứng {m.text} ban hành trước khi có kế hoạch "
                        f"(kế hoạch ban hành ngày {format_date_vi(plan_issued)})",
                        f"{label}: evidence dated before the plan was issued", a.plan_id,
                        t.code))
    out.extend(_mention_findings(mentions, snap.end, "snapshot"))
    for a in snap.appendices:
        out.extend(_totals(a.number, a.plan_id, a.total, a.done, a.not_done, None, "snapshot"))
    if against is not None:
        out.extend(_against(snap, against, today))
    return out


def _mention_findings(mentions: list[tuple[str, str, Mention]], end: date,
                      source: Literal["snapshot", "against"]) -> list[Finding]:
    out: list[Finding] = []
    by_key: dict[tuple[object, ...], dict[date, list[str]]] = defaultdict(lambda: defaultdict(list))
    for plan, code, m in mentions:
        where = f"{plan} {code}" if code else plan
        if m.error is not None:
            out.append(Finding(
                "bad_reference", "error",
                f"{where}: '{m.text}' — {m.error.message_vi}",
                f"{where}: '{m.text}' — {m.error.message_en}", plan or None, code or None,
                source))
        elif m.ref is not None:
            by_key[m.ref.key][m.ref.issued_on].append(where)
    for _key, dates in by_key.items():
        if len(dates) > 1:
            listed = "; ".join(f"ngày {format_date_vi(d)} ({', '.join(sorted(set(w)))})"
                               for d, w in sorted(dates.items()))
            some = next(m for _p, _c, m in mentions if m.ref is not None and m.ref.key == _key)
            assert some.ref is not None
            out.append(Finding(
                "number_reused", "error",
                f"Văn bản số {some.ref.render_number()} được ghi với {len(dates)} ngày khác "
                f"nhau: {listed}",
                f"document {some.ref.render_number()} is cited with {len(dates)} different "
                "dates", None, None, source))
    return out


def _totals(number: int, plan: str | None, rows_total: int, rows_done: int, rows_nd: int,
            stated: tuple[int | None, int | None, int | None] | None,
            source: Literal["snapshot", "against"]) -> list[Finding]:
    if rows_done + rows_nd != rows_total:
        return [Finding("rows_inconsistent", "error",
                        f"Phụ lục {number}: {rows_total} nhiệm vụ nhưng {rows_done} đã và "
                        f"{rows_nd} chưa thực hiện",
                        f"appendix {number}: rows do not add up", plan, None, source)]
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
            f"give {rows_total}/{rows_done}/{rows_nd}", plan, None, source)]
    return []


def _n(v: int | None) -> str:
    return "?" if v is None else f"{v:02d}"


def _against(snap: Snapshot, path: Path, today: date) -> list[Finding]:
    out: list[Finding] = []
    read: list[ReadAppendix] = read_report(path)
    ours = {a.number: a for a in snap.appendices}
    for ra in read:
        plan = ours[ra.number].plan_id if ra.number in ours else None
        stated = ((ra.totals.stated_total, ra.totals.stated_done, ra.totals.stated_not_done)
                  if ra.totals else None)
        out.extend(_totals(ra.number, plan, len(ra.rows), ra.done, ra.not_done, stated,
                           "against"))
        if ra.number in ours:
            mine = {t.code: t for t in ours[ra.number].all_tasks()}
            for row in ra.rows:
                t = mine.get(row.code)
                if t is not None and t.done != row.done:
                    out.append(Finding(
                        "state_differs", "error",
                        f"Phụ lục {ra.number}, nhiệm vụ {row.code}: báo cáo ghi "
                        f"'{'Đã' if row.done else 'Chưa'} thực hiện', hệ thống ghi "
                        f"'{'Đã' if t.done else 'Chưa'} thực hiện'",
                        f"appendix {ra.number} task {row.code}: report and engine disagree",
                        plan, row.code, "against"))
    text = path.read_text(encoding="utf-8") if path.suffix.lower() == ".txt" else ""
    if text:
        mentions = [("", "", m) for m in find_mentions(text, today)]
        out.extend(_mention_findings(mentions, snap.end, "against"))
    return out
