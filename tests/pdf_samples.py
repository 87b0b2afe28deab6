"""Small real PDFs for tests: a clean one and ones with active content (made with pypdf)."""

from __future__ import annotations

import io
from functools import cache

from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject


def _bytes(writer: PdfWriter) -> bytes:
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


@cache
def clean_pdf() -> bytes:
    """One blank A4 page, nothing else."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    return _bytes(writer)


def pdf_with_javascript() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                               NameObject("/JS"): TextStringObject("app.alert('xin chao');")})
    writer._root_object[NameObject("/Names")] = DictionaryObject({
        NameObject("/JavaScript"): DictionaryObject({NameObject("/Names"): ArrayObject([
            TextStringObject("mo"), writer._add_object(action)])})})
    return _bytes(writer)


def pdf_with_launch() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/Launch"),
        NameObject("/F"): TextStringObject("cmd.exe")})
    return _bytes(writer)


def pdf_with_page_action() -> bytes:
    """JavaScript on a page's 'open' additional action (/AA), not in the catalogue."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): DictionaryObject({
        NameObject("/S"): NameObject("/JavaScript"),
        NameObject("/JS"): TextStringObject("app.alert(1)")})})
    return _bytes(writer)


__all__ = ["clean_pdf", "pdf_with_javascript", "pdf_with_launch", "pdf_with_page_action"]
