"""The draft report as a .docx on the NĐ 30/2020 page: the shared header block (unit and the
national title), 'Số: …/BC-UBND' and the place and date line, the body paragraphs, then the
'Nơi nhận' and signature blocks side by side.

Built from the same parts as the appendices (engine.reporting.export.docx_base: page, fonts, header
with
page numbers; the deterministic zip); body text uses direct formatting on the Normal style
(14 pt, justified, 1 cm first-line indent), so the appendices' styles stay as they are.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from engine.reporting.draft.render import Draft, Kind
from engine.reporting.export.docx_base import DOCUMENT_XML, docx_base, twips
from engine.reporting.export.docx_writer import _NO_BORDER, _grid, _header_block, _tbl_pr
from engine.reporting.export.package import CORE_XML, core_xml, write_zip
from engine.reporting.export.page import TEXT_WIDTH_MM
from engine.reporting.export.texts import clean
from engine.reporting.snapshot.model import Snapshot

_BODY_PT = 14
_SMALL_PT = 12
_JC = {"title": "center", "heading": "both", "subheading": "both", "note": "center",
       "para": "both"}


def _run(text: str, size: float, *, bold: bool = False, italic: bool = False) -> str:
    props = ("<w:b/>" if bold else "") + ("<w:i/>" if italic else "")
    half = int(size * 2)
    return (f'<w:r><w:rPr>{props}<w:sz w:val="{half}"/><w:szCs w:val="{half}"/></w:rPr>'
            f'<w:t xml:space="preserve">{escape(clean(text))}</w:t></w:r>')


def _para(kind: Kind, text: str) -> str:
    indent = '<w:ind w:firstLine="567"/>' if kind == "para" else ""
    before = 120 if kind in ("heading", "subheading") else 60
    ppr = (f'<w:pPr><w:spacing w:before="{before}" w:after="60" w:line="288" '
           f'w:lineRule="auto"/>{indent}<w:jc w:val="{_JC[kind]}"/></w:pPr>')
    bold = kind in ("title", "heading", "subheading")
    return f"<w:p>{ppr}{_run(text, _BODY_PT, bold=bold, italic=kind == 'note')}</w:p>"


def _plain(text: str, size: float, jc: str, *, bold: bool = False, italic: bool = False) -> str:
    return (f'<w:p><w:pPr><w:jc w:val="{jc}"/></w:pPr>'
            f"{_run(text, size, bold=bold, italic=italic)}</w:p>")


def _two_columns(left: str, right: str) -> str:
    half = twips(TEXT_WIDTH_MM / 2)
    cells = "".join(f'<w:tc><w:tcPr><w:tcW w:w="{half}" w:type="dxa"/></w:tcPr>{body}</w:tc>'
                    for body in (left or "<w:p/>", right or "<w:p/>"))
    return ("<w:tbl>" + _tbl_pr(TEXT_WIDTH_MM, _NO_BORDER, 0) + _grid((half, half))
            + f"<w:tr><w:trPr><w:cantSplit/></w:trPr>{cells}</w:tr></w:tbl>")


def draft_docx(snap: Snapshot, draft: Draft, place: str) -> bytes:
    """The report body; `place` is the commune's name for 'Vĩnh Thạnh, ngày … tháng … năm'."""
    number = _plain("Số:        /BC-UBND", 13, "center")
    date_line = _plain(f"{place}, ngày      tháng      năm {snap.end.year}", 14, "center",
                       italic=True)
    recipients = ""
    if draft.recipients:
        recipients = _plain("Nơi nhận:", _SMALL_PT, "left", bold=True, italic=True) + "".join(
            _plain(line, 11, "left") for line in draft.recipients)
    signature = "".join(
        _plain(line, 14, "center", bold=i < len(draft.signature) - 1)
        + ("<w:p/>" * 3 if i == len(draft.signature) - 2 else "")
        for i, line in enumerate(draft.signature))
    body = "".join((
        _header_block(snap),
        _two_columns(number, date_line),
        "".join(_para(kind, text) for kind, text in draft.blocks),
        "<w:p/>",
        _two_columns(recipients, signature),
    ))
    base = docx_base()
    document = base.document_head + body.encode() + base.document_tail
    core = core_xml(title=f"Báo cáo cải cách hành chính {clean(snap.period_label)}",
                    subject="Dự thảo báo cáo (do hệ thống soạn từ số liệu)",
                    creator=f"UBND {clean(snap.unit.display)}", when=snap.taken_at)
    return write_zip((*base.parts, (DOCUMENT_XML, document), (CORE_XML, core)), snap.taken_at)
