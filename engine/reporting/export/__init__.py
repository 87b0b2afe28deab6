"""Quarter-end appendix exporters: Phụ lục 1–3 as .docx (NĐ 30/2020 layout) and .xlsx, plus JSON.

Why a package of small modules: the wording (texts), the table grid and its merges (table), the
deterministic packaging (package) and each file format are separate concerns; the public API is
only what is re-exported here.
"""

from __future__ import annotations

from engine.reporting.export.docx_writer import export_docx
from engine.reporting.export.files import write_all
from engine.reporting.export.json_writer import export_json, read_json
from engine.reporting.export.table import Table, build_table
from engine.reporting.export.xlsx_writer import export_xlsx

__all__ = [
    "Table",
    "build_table",
    "export_docx",
    "export_json",
    "export_xlsx",
    "read_json",
    "write_all",
]
