"""The NĐ 30 page, styles and page-number header, built once with python-docx and reused.

Why build once: 3,321 units × 3 appendices is ~10,000 .docx files per quarter. Page setup,
styles, the header part and the package around them are the same for every file, so they are
made here a single time (python-docx's own API), trimmed of template ballast (a 430 kB gallery of
unused styles, a preview thumbnail, a bibliography part), and kept as finished part bytes. Each
export then only writes word/document.xml and docProps/core.xml.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from functools import cache
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, Twips

from engine.reporting.export.package import CORE_XML
from engine.reporting.export.page import (
    FONT,
    HEADER_DISTANCE_MM,
    MARGIN_BOTTOM_MM,
    MARGIN_LEFT_MM,
    MARGIN_RIGHT_MM,
    MARGIN_TOP_MM,
    MM_PER_INCH,
    Orientation,
)

TWIPS_PER_MM = 1440 / MM_PER_INCH
PAGE_W, PAGE_H = 11906, 16838  # A4 in twips, the exact values Word uses
DOCUMENT_XML = "word/document.xml"
_STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"


def twips(mm: float) -> int:
    return round(mm * TWIPS_PER_MM)


@dataclass(frozen=True, slots=True)
class StyleSpec:
    name: str
    size: float
    bold: bool = False
    italic: bool = False
    align: WD_ALIGN_PARAGRAPH | None = None
    before: float = 0
    after: float = 0
    keep_next: bool = False
    base: str = "Normal"


_ALIGN_C = WD_ALIGN_PARAGRAPH.CENTER
_ALIGN_L = WD_ALIGN_PARAGRAPH.LEFT

# key -> style; keys are what docx_writer asks for, names are what Word shows.
STYLE_SPECS: dict[str, StyleSpec] = {
    "org": StyleSpec("CCHC Cơ quan", 13, bold=True, align=_ALIGN_C),
    "nation": StyleSpec("CCHC Quốc hiệu", 12, bold=True, align=_ALIGN_C),
    "motto": StyleSpec("CCHC Tiêu ngữ", 13, bold=True, align=_ALIGN_C),
    "rule": StyleSpec("CCHC Đường kẻ", 3),
    "appendix": StyleSpec("CCHC Phụ lục", 14, bold=True, align=_ALIGN_C, before=12, keep_next=True),
    "title": StyleSpec("CCHC Tên phụ lục", 14, bold=True, align=_ALIGN_C, keep_next=True),
    "note": StyleSpec("CCHC Ghi chú", 13, italic=True, align=_ALIGN_C, keep_next=True),
    "gap": StyleSpec("CCHC Dòng trống", 6, keep_next=True),
    # Table text is left-aligned: justifying narrow columns leaves rivers of blanks.
    "cell": StyleSpec("CCHC Bảng", 12, align=_ALIGN_L, before=1, after=1),
    "cell_center": StyleSpec("CCHC Bảng giữa", 12, align=_ALIGN_C, base="CCHC Bảng"),
    "cell_head": StyleSpec("CCHC Bảng tiêu đề", 12, bold=True, align=_ALIGN_C, base="CCHC Bảng"),
    "cell_bold": StyleSpec(
        "CCHC Bảng đậm", 12, bold=True, align=_ALIGN_L, keep_next=True, base="CCHC Bảng"
    ),
    "page_number": StyleSpec("CCHC Số trang", 13, align=_ALIGN_C),
}


@dataclass(frozen=True, slots=True)
class DocxBase:
    parts: tuple[tuple[str, bytes], ...]  # every part except document.xml and core.xml
    document_head: bytes  # word/document.xml up to and including <w:body>
    document_tail: bytes  # from the final <w:sectPr> to the end
    style_ids: dict[str, str]  # STYLE_SPECS key -> w:styleId


def _set_fonts(rpr: Any) -> None:
    """Times New Roman for every script slot, so Word never substitutes a theme font."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), FONT)


def _defaults(doc: DocxDocument) -> None:
    styles_el = doc.styles.element
    rpr = styles_el.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr)
    for tag in ("w:sz", "w:szCs"):
        el = rpr.find(qn(tag))
        if el is not None:
            el.set(qn("w:val"), "26")
    lang = rpr.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:val"), "vi-VN")
    spacing = styles_el.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = spacing.find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(13)
    _set_fonts(normal.element.get_or_add_rPr())


def _add_styles(doc: DocxDocument) -> dict[str, str]:
    ids: dict[str, str] = {}
    for key, spec in STYLE_SPECS.items():
        style = doc.styles.add_style(spec.name, WD_STYLE_TYPE.PARAGRAPH)
        # ASCII ids (CchcCellHead): Word and LibreOffice show `name`, other tools key on ids.
        style.style_id = "Cchc" + "".join(part.title() for part in key.split("_"))
        style.base_style = doc.styles[spec.base]
        style.quick_style = False
        font = style.font
        font.size = Pt(spec.size)
        font.bold = spec.bold or None
        font.italic = spec.italic or None
        fmt = style.paragraph_format
        if spec.align is not None:
            fmt.alignment = spec.align
        fmt.space_before = Pt(spec.before)
        fmt.space_after = Pt(spec.after)
        if spec.keep_next:
            fmt.keep_with_next = True
        ids[key] = style.style_id
    return ids


def _prune_styles(doc: DocxDocument, keep_ids: set[str]) -> None:
    """Drop the template's unused styles (most of styles.xml), keeping what ours refer to."""
    root = doc.styles.element
    by_id = {s.get(qn("w:styleId")): s for s in root.findall(qn("w:style"))}
    wanted = set(keep_ids) | {i for i, s in by_id.items() if s.get(qn("w:default")) == "1"}
    wanted.add("Header")
    todo = list(wanted)
    while todo:
        style = by_id.get(todo.pop())
        if style is None:
            continue
        for tag in ("w:basedOn", "w:next", "w:link"):
            ref = style.find(qn(tag))
            if ref is not None and ref.get(qn("w:val")) not in wanted:
                wanted.add(ref.get(qn("w:val")))
                todo.append(ref.get(qn("w:val")))
    for style_id, style in by_id.items():
        if style_id not in wanted:
            root.remove(style)


def _page(doc: DocxDocument, page_number_style: str, orientation: Orientation = "portrait"
          ) -> None:
    section = doc.sections[0]
    if orientation == "landscape":  # A4 turned sideways; the binding margin stays left
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Twips(PAGE_H), Twips(PAGE_W)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Twips(PAGE_W), Twips(PAGE_H)
    section.top_margin = Twips(twips(MARGIN_TOP_MM))
    section.bottom_margin = Twips(twips(MARGIN_BOTTOM_MM))
    section.left_margin = Twips(twips(MARGIN_LEFT_MM))
    section.right_margin = Twips(twips(MARGIN_RIGHT_MM))
    section.header_distance = section.footer_distance = Twips(twips(HEADER_DISTANCE_MM))
    section.gutter = Twips(0)
    # NĐ 30: page numbers centred in the top margin, none on page 1, each appendix from 1.
    section.different_first_page_header_footer = True
    section.first_page_header.is_linked_to_previous = False
    header = section.header
    header.is_linked_to_previous = False
    para = header.paragraphs[0]
    para.style = doc.styles[page_number_style]
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "2")):
        run = para.add_run()
        if kind is not None:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            run.text = text
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    para.add_run()._r.append(end)
    sect_pr = section._sectPr
    pg_num = OxmlElement("w:pgNumType")
    pg_num.set(qn("w:start"), "1")
    sect_pr.find(qn("w:cols")).addprevious(pg_num)


def _trim_package(doc: DocxDocument) -> None:
    """Remove parts no appendix needs; they would be re-compressed into every file."""
    drop = {_STYLES_WITH_EFFECTS, RT.CUSTOM_XML}
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype in drop:
            doc.part.drop_rel(rid)
    pkg_rels = doc.part.package.rels
    for rid, rel in list(pkg_rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del pkg_rels[rid]
    settings = doc.settings.element
    preview = settings.find(qn("w:savePreviewPicture"))
    if preview is not None:
        settings.remove(preview)
    lang = settings.find(qn("w:themeFontLang"))
    if lang is not None:
        lang.attrib.pop(qn("w:eastAsia"), None)
        lang.set(qn("w:val"), "vi-VN")


_BODY = re.compile(rb"<w:body>")
_SECT = re.compile(rb"<w:sectPr[ >]")


@cache
def docx_base(orientation: Orientation = "portrait") -> DocxBase:
    """Build (once per process and orientation) the package every appendix .docx shares."""
    doc = Document()
    _defaults(doc)
    ids = _add_styles(doc)
    _prune_styles(doc, set(ids.values()))
    _page(doc, STYLE_SPECS["page_number"].name, orientation)
    _trim_package(doc)
    buf = io.BytesIO()
    doc.save(buf)
    with zipfile.ZipFile(buf) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    document = parts.pop(DOCUMENT_XML)
    parts.pop(CORE_XML, None)
    body, sect = _BODY.search(document), _SECT.search(document)
    if body is None or sect is None:  # pragma: no cover - python-docx template changed
        raise RuntimeError("unexpected python-docx template: no <w:body> or <w:sectPr>")
    return DocxBase(
        parts=tuple(sorted(parts.items())),
        document_head=document[: body.end()],
        document_tail=document[sect.start() :],
        style_ids=ids,
    )
