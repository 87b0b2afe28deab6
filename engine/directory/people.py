"""People reminders reach, and who an item's `owner` text means.

Why match on the title: plan files name the position in charge ("Công chức Tư pháp - Hộ tịch"),
not a person, so a task follows the position when an officer leaves; a leader may also assign a
task to a person by name. Matching is on NFC, case-insensitive text with dashes and spaces
normalised — diacritics count ("Thủy" is not "Thùy"). A title held by two officers (communes
often have two công chức Tư pháp - Hộ tịch) reaches both.

Loading is idempotent: a person is known by unit and name; loading the same file twice changes
nothing, a changed file updates the rows it names and leaves everyone else as they are (people
are never deleted: outbox rows point at them; set `active: false` instead).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from pydantic import ValidationError
from sqlalchemy import Text, bindparam, cast, select
from sqlalchemy.orm import Session

from engine.directory.units import get_unit
from engine.errors import Problem, ValidationFailed
from engine.runtime import Runtime
from engine.storage.database import scope_memo
from engine.storage.models import Person, Unit
from engine.storage.rows import plain_rows
from plans.errors import SpecProblems
from plans.loader import load_model
from plans.people_schema import (
    PeopleFile,
    PersonSpec,
    normalize_phone,
    reachable_channels,
)
from vntext.text import nfc

_DASHES = re.compile(r"\s*[-‐‑‒–—―]\s*")
_SPACES = re.compile(r"\s+")
#: How many unit ids one people query carries (keeps IN lists well below driver limits).
UNIT_BATCH = 1000


@functools.lru_cache(maxsize=65536)
def owner_key(text: str) -> str:
    """The form owner texts, titles and names are compared in."""
    text = _DASHES.sub(" - ", nfc(text))
    return _SPACES.sub(" ", text).strip().casefold()


@dataclass(frozen=True)
class PersonView:
    id: int
    unit: str
    name: str
    role: str
    title: str | None
    email: str | None
    zalo_user_id: str | None
    phone: str | None
    channels: list[str]
    active: bool


@dataclass(frozen=True)
class PeopleLoadResult:
    created: int
    updated: int
    unchanged: int
    people: list[PersonView] = field(default_factory=list)


def _view(p: Person, slug: str) -> PersonView:
    return PersonView(p.id, slug, p.name, p.role, p.title, p.email, p.zalo_user_id, p.phone,
                      list(p.channels or []), p.active)


class Contact(NamedTuple):
    """A person as the planner reads it: plain columns, no ORM identity (fast in bulk: a
    tuple, built in C, where a frozen dataclass sets each field through Python)."""

    id: int
    unit_id: int
    name: str
    role: str
    title: str | None
    email: str | None
    zalo_user_id: str | None
    phone: str | None
    channels: tuple[str, ...]
    active: bool


@functools.lru_cache(maxsize=1024)
def _channels(text: str | None) -> tuple[str, ...]:
    """A `channels` JSON text, decoded once per distinct value (they repeat a lot)."""
    value = json.loads(text) if text else []
    return tuple(str(c) for c in value) if isinstance(value, list) else ()


PersonLike = Person | Contact


def reachable(person: PersonLike) -> list[str]:
    """The person's preferred channels they have an address on, in their order."""
    can = set(reachable_channels(person.email, person.zalo_user_id, person.phone))
    return [c for c in (person.channels or []) if c in can]


def first_channel(person: PersonLike) -> str | None:
    """The channel a reminder is planned on (the dispatcher falls back to the next one)."""
    chans = reachable(person)
    return chans[0] if chans else None


def upsert_people(rt: Runtime, data: PeopleFile) -> PeopleLoadResult:
    """Create or update every person of a validated file, in one transaction."""
    created = updated = unchanged = 0
    views: list[PersonView] = []
    with rt.db.transaction() as session:
        slugs = sorted({data.unit_of(p) for p in data.people})
        units = {slug: get_unit(session, slug) for slug in slugs}
        ids = [u.id for u in units.values()]
        existing = {
            (p.unit_id, p.name.casefold()): p
            for p in session.scalars(select(Person).where(Person.unit_id.in_(ids)))
        }
        for spec in data.people:
            slug = data.unit_of(spec)
            unit = units[slug]
            values: dict[str, object] = {
                "name": spec.name, "role": spec.role, "title": spec.title, "email": spec.email,
                "zalo_user_id": spec.zalo_user_id, "phone": spec.phone,
                "channels": list(spec.preferred_channels), "active": spec.active,
            }
            row = existing.get((unit.id, spec.name.casefold()))
            if row is None:
                row = Person(unit_id=unit.id, created_at=rt.now(), **values)
                session.add(row)
                existing[(unit.id, spec.name.casefold())] = row
                created += 1
            elif all(getattr(row, k) == v for k, v in values.items()):
                unchanged += 1
            else:
                for k, v in values.items():
                    setattr(row, k, v)
                updated += 1
            session.flush()
            views.append(_view(row, slug))
    return PeopleLoadResult(created, updated, unchanged, views)


def load_people_file(rt: Runtime, path: Path) -> PeopleLoadResult:
    """Validate `people.yaml` (file, line, reason on any mistake), then upsert it."""
    return upsert_people(rt, load_model(PeopleFile, path))


def _problems(exc: ValidationError) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, SpecProblems):
            for sub, vi, en in cause.problems:
                out.append(Problem(".".join([*loc, *(str(s) for s in sub)]) or "person", vi, en))
            continue
        where = ".".join(loc) or "person"
        msg = str(err["msg"]).removeprefix("Value error, ")
        if " / " in msg:  # our own validators: the message names the field already
            vi, en = msg.split(" / ", 1)
            vi = vi[:1].upper() + vi[1:]
        elif err["type"] == "literal_error":
            vi, en = f"phải là một trong: {(err.get('ctx') or {}).get('expected')}", msg
        elif err["type"] == "missing":
            vi, en = "thiếu trường bắt buộc", msg
        else:
            vi, en = "giá trị không hợp lệ", msg
        if " / " not in msg:
            vi, en = f"Trường '{where}': {vi}", f"field '{where}': {en}"
        value = err.get("input")
        out.append(Problem(where, vi, en, value if isinstance(value, str) else None))
    return out


def person_spec(**fields: object) -> PersonSpec:
    """A `PersonSpec` from keyword fields, or `ValidationFailed` naming every bad field."""
    try:
        return PersonSpec.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        problems = _problems(exc)
        raise ValidationFailed(problems[0].message_vi, problems[0].message_en,
                               problems=problems) from None


def add_person(
    rt: Runtime,
    *,
    unit: str,
    name: str,
    role: str = "officer",
    title: str | None = None,
    email: str | None = None,
    zalo_user_id: str | None = None,
    phone: str | None = None,
    channels: Sequence[str] | None = None,
    active: bool = True,
) -> PersonView:
    """Add one person (or update the one of that unit and name); validated like the file."""
    spec = person_spec(unit=unit, name=name, role=role, title=title, email=email,
                       zalo_user_id=zalo_user_id, phone=phone,
                       channels=list(channels) if channels is not None else None,
                       active=active)
    return upsert_people(rt, PeopleFile(people=[spec])).people[0]


_person_id: Callable[[Any], int] = attrgetter("id")


#: `list_people`'s statements (plain columns, built once).
_PEOPLE = (select(Person.id, Unit.slug, Person.name, Person.role, Person.title, Person.email,
                  Person.zalo_user_id, Person.phone, Person.channels, Person.active)
           .join(Unit, Unit.id == Person.unit_id).order_by(Unit.slug, Person.id))
_PEOPLE_OF_UNIT = _PEOPLE.where(Person.unit_id == bindparam("unit"))


def list_people(rt: Runtime, unit: str | None = None) -> list[PersonView]:
    with rt.db.read() as session:
        def load() -> list[PersonView]:
            if unit is None:
                rows = plain_rows(session.connection(), _PEOPLE)
            else:
                rows = plain_rows(session.connection(), _PEOPLE_OF_UNIT,
                                  {"unit": get_unit(session, unit).id})
            return [PersonView(i, slug, name, role, title, email, zalo, phone,
                               list(channels or []), active)
                    for i, slug, name, role, title, email, zalo, phone, channels, active
                    in rows]

        return list(scope_memo(session, ("people", unit), load))  # once per web request


class Named(NamedTuple):
    """A person as matching a login or a task's owner reads it."""

    id: int
    name: str
    title: str | None


#: A unit's active people as `Named` rows (parameter `unit`, the unit's id): what finding the
#: person a login stands for reads, for another read to run as part of its own
#: (`engine.reporting.menu`).
ACTIVE_NAMED = select(Person.id, Person.name, Person.title).where(
    Person.unit_id == bindparam("unit"), Person.active.is_(True))


class _Identified(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...


_N = TypeVar("_N", bound=_Identified)


def login_person(people: Iterable[_N], person_id: int | None, full_name: str) -> _N | None:
    """The person a login (linked to `person_id`, named `full_name`) stands for among a unit's
    active `people`: the linked one, else the first by id with the login's name (any case,
    NFC, dashes normalised: `owner_key`). None for a login that is nobody's."""
    ordered = sorted(people, key=_person_id)
    if person_id is not None:
        for p in ordered:
            if p.id == person_id:
                return p
    wanted = owner_key(full_name)
    for p in ordered:
        if owner_key(p.name) == wanted:
            return p
    return None


# ---------------------------------------------------------------- owner resolution


P = TypeVar("P", Person, Contact)


class OwnerIndex(Generic[P]):
    """The active people of one unit, indexed by title and name; the unit's leader."""

    def __init__(self, people: Iterable[P], leader_name: str | None = None) -> None:
        self.people: list[P] = [p for p in people if p.active]
        self.people.sort(key=_person_id)
        by_title: dict[str, list[P]] = {}
        by_name: dict[str, list[P]] = {}
        for p in self.people:
            if p.title:
                by_title.setdefault(owner_key(p.title), []).append(p)
            by_name.setdefault(owner_key(p.name), []).append(p)
        self._by_title: dict[str, list[P]] = by_title
        self._by_name: dict[str, list[P]] = by_name
        self._leader_name = leader_name
        self._leader_found = False
        self._leader_value: P | None = None
        self._cache: dict[str, list[P]] = {}
        self._channels: dict[int, str | None] = {}

    def channel(self, person: P) -> str | None:
        """`first_channel(person)`, computed once per person."""
        if person.id not in self._channels:
            self._channels[person.id] = first_channel(person)
        return self._channels[person.id]

    @property
    def leader(self) -> P | None:
        """The unit's leader (computed on first use: most units never escalate)."""
        if not self._leader_found:
            self._leader_value = self._leader(self._leader_name)
            self._leader_found = True
        return self._leader_value

    def _leader(self, leader_name: str | None) -> P | None:
        if leader_name:
            named = self._by_name.get(owner_key(leader_name))
            if named:
                return named[0]
        leaders = [p for p in self.people if p.role == "leader"]
        for p in leaders:
            if p.title and owner_key(p.title).startswith("chủ tịch"):
                return p
        return leaders[0] if leaders else None

    def resolve(self, owner_text: str | None) -> list[P]:
        """Everyone whose title or name is `owner_text` (titles first), without repeats."""
        if not owner_text:
            return []
        wanted = owner_key(owner_text)
        hit = self._cache.get(wanted)
        if hit is None:
            ids: set[int] = set()
            hit = []
            for p in self._by_title.get(wanted, []) + self._by_name.get(wanted, []):
                if p.id not in ids:
                    ids.add(p.id)
                    hit.append(p)
            self._cache[wanted] = hit
        return hit


def _leader_names(session: Session, unit_ids: Sequence[int]) -> dict[int, str | None]:
    return {uid: leader for uid, leader in session.connection().execute(
        select(Unit.id, Unit.leader).where(Unit.id.in_(unit_ids))).all()}


def _batches(unit_ids: Iterable[int]) -> list[list[int]]:
    ids = sorted(set(unit_ids))
    return [ids[i:i + UNIT_BATCH] for i in range(0, len(ids), UNIT_BATCH)]


def owner_indexes(session: Session, unit_ids: Iterable[int]) -> dict[int, OwnerIndex[Person]]:
    """One `OwnerIndex` of `Person` rows per unit: one people query per batch of units."""
    out: dict[int, OwnerIndex[Person]] = {}
    for batch in _batches(unit_ids):
        leaders = _leader_names(session, batch)
        people: dict[int, list[Person]] = {uid: [] for uid in batch}
        for p in session.scalars(
                select(Person).where(Person.unit_id.in_(batch), Person.active.is_(True))):
            people[p.unit_id].append(p)
        for uid in batch:
            out[uid] = OwnerIndex(people[uid], leaders.get(uid))
    return out


#: A person row as `active_people_rows` reads it: `Contact`'s columns, `channels` as JSON text.
PersonRow = Sequence[Any]
_new_contact: Callable[[tuple[Any, ...]], Contact] = partial(tuple.__new__, Contact)


def contact(row: PersonRow) -> Contact:
    """The `Contact` of a row of `active_people_rows`."""
    return _new_contact((*row[:8], _channels(row[8]), row[9]))


def active_people_rows(session: Session, unit_ids: Iterable[int]) -> list[PersonRow]:
    """The active people of (at least) the units `unit_ids` as plain rows, in the table's
    order: what the planner reads for thousands of units (ORM objects cost ~20x more to
    build). For more than `UNIT_BATCH` units, the whole (small: ten people per unit) table
    in one query, rather than thousands of bound ids the driver must render and parse."""
    cols = (Person.id, Person.unit_id, Person.name, Person.role, Person.title, Person.email,
            Person.zalo_user_id, Person.phone, cast(Person.channels, Text), Person.active)
    wanted = set(unit_ids)
    conn = session.connection()  # Core rows: no ORM bookkeeping
    people_q = select(*cols).where(Person.active.is_(True))
    if len(wanted) > UNIT_BATCH:
        return list(plain_rows(conn, people_q))
    rows: list[PersonRow] = []
    for batch in _batches(wanted):
        rows += plain_rows(conn, people_q.where(Person.unit_id.in_(batch)))
    return rows


def resolve_owner(session: Session, unit_id: int, owner_text: str) -> list[Person]:
    """The active people of the unit whose title or name is `owner_text` (NFC, any case)."""
    return owner_indexes(session, [unit_id])[unit_id].resolve(owner_text)


def unit_leader(session: Session, unit_id: int) -> Person | None:
    """The unit's leader: the person named as the unit's leader (units.yaml), else the active
    person with role leader whose title is Chủ tịch, else any active leader."""
    return owner_indexes(session, [unit_id])[unit_id].leader


__all__ = [
    "ACTIVE_NAMED",
    "Contact",
    "Named",
    "OwnerIndex",
    "PeopleLoadResult",
    "PersonLike",
    "PersonRow",
    "PersonView",
    "active_people_rows",
    "add_person",
    "contact",
    "first_channel",
    "list_people",
    "load_people_file",
    "login_person",
    "normalize_phone",
    "owner_indexes",
    "owner_key",
    "reachable",
    "resolve_owner",
    "unit_leader",
    "upsert_people",
]
