"""Units (communes, wards and their parent city/province) and their reporting cut-off."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.errors import NotFound, ValidationFailed
from engine.runtime import Runtime
from engine.storage.database import scope_memo
from engine.storage.models import Unit

if TYPE_CHECKING:
    from plans import UnitSpec

KIND_PREFIX = {"xã": "xã", "phường": "phường", "thị trấn": "thị trấn", "đặc khu": "đặc khu"}


@dataclass(frozen=True)
class UnitView:
    id: int
    slug: str
    name: str
    kind: str
    parent_slug: str | None
    cutoff_day: int
    leader: str | None

    @property
    def display(self) -> str:
        return f"{self.kind} {self.name}"

    @property
    def own_issuer(self) -> str:
        return f"UBND {self.kind} {self.name}"


_BY_SLUG = select(Unit).where(Unit.slug == bindparam("slug"))
# The units above one (parent, grandparent, ...), in one statement. UNION, not UNION ALL: a
# cycle (refused when units are loaded) would still end.
_UP = select(Unit.id, Unit.parent_id).where(Unit.id == bindparam("parent")).cte(
    "up", recursive=True)
_UP = _UP.union(select(Unit.id, Unit.parent_id).join(_UP, Unit.id == _UP.c.parent_id))
_ANCESTORS = select(Unit).where(Unit.id.in_(select(_UP.c.id)))
# A unit by slug with every unit above it, in one statement (a web request needs both: the
# access check and the unit's cut-off day read its ancestors).
_CHAIN = select(Unit.id, Unit.parent_id).where(Unit.slug == bindparam("slug")).cte(
    "chain", recursive=True)
_CHAIN = _CHAIN.union(select(Unit.id, Unit.parent_id).join(_CHAIN, Unit.id == _CHAIN.c.parent_id))
_WITH_ANCESTORS = select(Unit).where(Unit.id.in_(select(_CHAIN.c.id)))


def get_unit(session: Session, slug: str) -> Unit:
    """The unit `slug` (looked up once per scope when the session has a scope cache, see
    `engine.storage.database.ScopedDatabase`)."""
    cache: dict[object, object] | None = session.info.get("cache")
    if cache is not None:
        found = cache.get(("unit", slug))
        if isinstance(found, Unit):
            return found
        for kept in session.info.get("keep", ()):  # loaded by id earlier in the scope
            if isinstance(kept, Unit) and kept.slug == slug:
                cache[("unit", slug)] = kept
                return kept
    if cache is None:
        unit = session.scalar(_BY_SLUG, {"slug": slug})
    else:  # a scope: the units above it too, which its access check reads next
        by_id = {u.id: u for u in session.scalars(_WITH_ANCESTORS, {"slug": slug})}
        unit = next((u for u in by_id.values() if u.slug == slug), None)
        if unit is not None:
            cache[("unit", slug)] = unit
            cache[("ancestors", unit.id)] = _chain_above(unit, by_id)
    if unit is None:
        raise NotFound(
            f"Không tìm thấy đơn vị '{slug}' (xem: cchc unit list)",
            f"unit '{slug}' not found",
            field="unit",
            value=slug,
        )
    return unit


def ancestors(session: Session, unit: Unit) -> list[Unit]:
    """The units above `unit` (its parent, the parent's parent, ...), read in one statement;
    in a web request's scope they stay loaded, so `session.get(Unit, id)` of any of them (a
    parent's slug, a cut-off day inherited) sends nothing more."""
    if unit.parent_id is None:
        return []

    def load() -> list[Unit]:
        by_id = {u.id: u for u in session.scalars(_ANCESTORS, {"parent": unit.parent_id})}
        return _chain_above(unit, by_id)

    return scope_memo(session, ("ancestors", unit.id), load)  # once per web request


def _chain_above(unit: Unit, by_id: dict[int, Unit]) -> list[Unit]:
    """`unit`'s parent, the parent's parent, ... among `by_id` (a cycle ends the chain)."""
    out: list[Unit] = []
    parent: int | None = unit.parent_id
    while parent is not None and parent in by_id and by_id[parent] not in out:
        out.append(by_id[parent])
        parent = by_id[parent].parent_id
    return out


def effective_cutoff_day(session: Session, unit: Unit, default: int) -> int:
    """The unit's cut-off day, else its parent's (city, province), else the national one."""
    current: Unit | None = unit
    while current is not None:
        if current.report_cutoff_day is not None:
            return current.report_cutoff_day
        current = session.get(Unit, current.parent_id) if current.parent_id else None
    return default


def view(session: Session, unit: Unit, default_cutoff: int) -> UnitView:
    """The unit with its parent's slug and its effective cut-off day (the units above it
    read in one statement, see `ancestors`)."""
    above = ancestors(session, unit)
    cutoff = next((u.report_cutoff_day for u in (unit, *above)
                   if u.report_cutoff_day is not None), default_cutoff)
    return UnitView(
        id=unit.id,
        slug=unit.slug,
        name=unit.name,
        kind=unit.kind,
        parent_slug=above[0].slug if above else None,
        cutoff_day=cutoff,
        leader=unit.leader,
    )


def upsert_units(rt: Runtime, specs: list[UnitSpec]) -> list[UnitView]:
    """Create or update units (parents first); all in one transaction."""
    with rt.db.transaction() as session:
        out = []
        by_slug = {s.slug: s for s in specs}
        done: set[str] = set()

        def ensure(spec: UnitSpec, trail: tuple[str, ...] = ()) -> Unit:
            if spec.slug in trail:
                raise ValidationFailed(
                    f"Đơn vị '{spec.slug}' là cấp trên của chính nó",
                    f"unit '{spec.slug}' is its own ancestor",
                    field="parent",
                )
            parent_id = None
            if spec.parent:
                if spec.parent in by_slug and spec.parent not in done:
                    parent_id = ensure(by_slug[spec.parent], (*trail, spec.slug)).id
                else:
                    parent_id = get_unit(session, spec.parent).id
            unit = session.scalar(select(Unit).where(Unit.slug == spec.slug))
            if unit is None:
                unit = Unit(slug=spec.slug, created_at=rt.now())
                session.add(unit)
            unit.name = spec.name
            unit.kind = spec.kind
            unit.parent_id = parent_id
            unit.report_cutoff_day = spec.report_cutoff_day
            unit.leader = spec.leader
            session.flush()
            done.add(spec.slug)
            return unit

        for spec in specs:
            ensure(spec)
        for spec in specs:
            out.append(view(session, get_unit(session, spec.slug), rt.settings.report_cutoff_day))
        return out


def list_units(rt: Runtime) -> list[UnitView]:
    with rt.db.read() as session:
        units = session.scalars(select(Unit).order_by(Unit.slug)).all()
        return [view(session, u, rt.settings.report_cutoff_day) for u in units]


def all_views(session: Session, default_cutoff: int) -> dict[str, UnitView]:
    """`view` of every unit by slug, from one query (parents and cut-off days resolved in
    memory the way `view` and `effective_cutoff_day` resolve them)."""
    units = {u.id: u for u in session.scalars(select(Unit))}

    def cutoff(unit: Unit) -> int:
        current: Unit | None = unit
        seen: set[int] = set()
        while current is not None and current.id not in seen:
            seen.add(current.id)
            if current.report_cutoff_day is not None:
                return current.report_cutoff_day
            current = units.get(current.parent_id) if current.parent_id else None
        return default_cutoff

    out = {}
    for u in units.values():
        parent = units.get(u.parent_id) if u.parent_id else None
        out[u.slug] = UnitView(id=u.id, slug=u.slug, name=u.name, kind=u.kind,
                               parent_slug=parent.slug if parent else None,
                               cutoff_day=cutoff(u), leader=u.leader)
    return out
