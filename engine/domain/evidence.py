"""The unit's register of official documents: one number, one document, one date.

Why a register: the same reference is cited by many tasks (one document may prove several
tasks), and a number given with two different dates in one year is a mistake the seed report
itself makes (1125/UBND-VP dated 01/3/2022 and 28/02/2022). The register refuses the second.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.domain.documents import DocumentRef
from engine.errors import Conflict
from engine.storage.models import Document, Unit
from vntext.dates import format_date_vi


def _key_columns(ref: DocumentRef) -> dict[str, object]:
    issuer_key, period_key, number, symbol = ref.key
    return {"issuer_key": issuer_key, "period_key": str(period_key), "number": number,
            "symbol": symbol}


def check_same_document(ref: DocumentRef, issued_on: date, type_code: str, rendered: str,
                        canonical: str) -> None:
    """The register's rule: a number already registered (with this date and type, as
    `rendered`) may only be cited again for the same document."""
    if issued_on != ref.issued_on or type_code != ref.type_code:
        other = (f"ngày {format_date_vi(ref.issued_on)}" if issued_on != ref.issued_on
                 else "loại văn bản khác")
        raise Conflict(
            f"Văn bản số {ref.render_number()} đã được ghi nhận là '{rendered}'; không thể "
            f"dùng cùng số đó với {other}",
            f"document number {ref.render_number()} is already registered as '{canonical}' "
            "with another date or type",
            field="doc", value=ref.render(),
        )


def register_documents(
    session: Session, unit: Unit, refs: Sequence[DocumentRef], now: datetime
) -> list[Document]:
    out: list[Document] = []
    for ref in refs:
        cols = _key_columns(ref)
        existing = session.scalar(
            select(Document).where(Document.unit_id == unit.id,
                                   *[getattr(Document, k) == v for k, v in cols.items()])
        )
        if existing is not None:
            check_same_document(ref, existing.issued_on, existing.type_code, existing.rendered,
                                existing.canonical)
            out.append(existing)
            continue
        doc = Document(
            unit_id=unit.id, issuer=ref.issuer, type_code=ref.type_code,
            issued_on=ref.issued_on, canonical=ref.canonical, rendered=ref.render(),
            created_at=now, **cols,
        )
        # No SAVEPOINT here: on SQLite (pysqlite) a SAVEPOINT opened before the transaction's
        # first write starts, and its RELEASE commits, a transaction of its own — a document
        # registered by a command refused later (a second reference contradicting the register)
        # stayed in the register. A unique-key race fails the whole command instead.
        session.add(doc)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(
                f"Văn bản số {ref.render_number()} vừa được người khác ghi nhận; hãy thử lại",
                "document registered concurrently; retry", field="doc",
            ) from None
        out.append(doc)
    return out
