"""Deterministic OOXML packaging: fixed zip timestamps, a fixed entry order, our own core.xml.

Why: python-docx and openpyxl stamp the wall-clock time into docProps/core.xml and into every
zip entry, so the same snapshot exported twice gave different bytes and a re-run of the
quarter-end export would look like a change to anything comparing files by hash. Everything
time-like is taken from `Snapshot.taken_at` instead.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING
from xml.sax.saxutils import escape

from engine.reporting.export import texts
from engine.reporting.snapshot.model import AppendixSnapshot, Snapshot

if TYPE_CHECKING:
    from _typeshed import SizedBuffer

CORE_XML = "docProps/core.xml"
_FIRST = ("[Content_Types].xml", "_rels/.rels")
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
_LEVEL = 6  # zlib's default: fixed here so the bytes do not depend on a library default


def zip_time(when: datetime) -> tuple[int, int, int, int, int, int]:
    """The snapshot's wall-clock time as a zip entry time (zip has no time zone)."""
    stamp = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    return max(stamp, _ZIP_EPOCH)


def w3cdtf(when: datetime) -> str:
    """UTC 'YYYY-MM-DDThh:mm:ssZ'; a naive datetime is taken to be UTC already."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def core_xml(*, title: str, subject: str, creator: str, when: datetime) -> bytes:
    """docProps/core.xml with created = modified = the snapshot time."""
    stamp = w3cdtf(when)
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(title)}</dc:title>"
        f"<dc:subject>{escape(subject)}</dc:subject>"
        f"<dc:creator>{escape(creator)}</dc:creator>"
        "<cp:lastModifiedBy>cchc</cp:lastModifiedBy>"
        "<cp:revision>1</cp:revision>"
        "<dc:language>vi-VN</dc:language>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    ).encode()


def appendix_core_xml(snapshot: Snapshot, appendix: AppendixSnapshot) -> bytes:
    """Document properties of an appendix file: what Explorer/Finder show, dated taken_at."""
    return core_xml(
        title=f"{texts.appendix_heading(appendix)}: {' '.join(texts.title_lines(appendix))}",
        subject=f"Báo cáo cải cách hành chính {texts.clean(snapshot.period_label)}",
        creator=f"UBND {texts.clean(snapshot.unit.display)}",
        when=snapshot.taken_at,
    )


def _order(name: str) -> tuple[int, str]:
    return (_FIRST.index(name) if name in _FIRST else len(_FIRST), name)


def _entry(name: str, stamp: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # same bytes whichever OS runs the export
    info.external_attr = 0o644 << 16
    return info


def write_zip(entries: Iterable[tuple[str, bytes]], when: datetime) -> bytes:
    """Zip `entries` with one fixed timestamp, fixed attributes, content types first."""
    stamp = zip_time(when)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(entries, key=lambda e: _order(e[0])):
            zf.writestr(_entry(name, stamp), data, compresslevel=_LEVEL)
    return out.getvalue()


class StampedZip(zipfile.ZipFile):
    """A write-only zip for library writers: every entry dated `when`, our core.xml swapped in.

    openpyxl's ExcelWriter adds entries with the wall-clock time (and its own core.xml); going
    through this class instead of re-zipping its output afterwards compresses each part once.
    Entries keep the order the library writes them in, which is fixed for a given workbook.
    """

    def __init__(self, file: IO[bytes], when: datetime, core: bytes) -> None:
        super().__init__(file, "w", zipfile.ZIP_DEFLATED)
        self._stamp = zip_time(when)
        self._core = core

    def writestr(
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: SizedBuffer | str,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        name = (
            zinfo_or_arcname.filename
            if isinstance(zinfo_or_arcname, zipfile.ZipInfo)
            else zinfo_or_arcname
        )
        payload = self._core if name == CORE_XML else data
        super().writestr(_entry(name, self._stamp), payload, compresslevel=_LEVEL)

    def write(
        self,
        filename: str | os.PathLike[str],
        arcname: str | os.PathLike[str] | None = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        with open(filename, "rb") as fh:
            self.writestr(os.fspath(arcname if arcname is not None else filename), fh.read())
