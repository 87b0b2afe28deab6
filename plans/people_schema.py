"""The shape of a people file (`people.yaml`): who reminders reach, and how.

Why a schema of its own: the file is edited by hand at the Phòng Nội vụ like the plan files, so
a wrong phone number or a channel nobody can be reached on must be refused with its place in the
file before anything is stored. Phone numbers are stored in the one form Zalo ZNS expects,
`84xxxxxxxxx`; the channel order says which channel the dispatcher tries first.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from plans.errors import Loc, SpecProblems
from plans.fields import OptText, Slug, Text
from vntext.phones import normalize_phone

PersonRole = Literal["officer", "leader", "reviewer", "admin"]
ChannelName = Literal["zalo", "email"]
CHANNELS: tuple[ChannelName, ...] = ("zalo", "email")

_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+$")
_ZALO_ID = re.compile(r"^\d{6,32}$")


def _phone(value: str | None) -> str | None:
    return None if value is None or not value.strip() else normalize_phone(value)


def _email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not _EMAIL.match(text):
        raise ValueError(
            f"địa chỉ email '{text}' không hợp lệ (ví dụ: ten@vinhthanh.example.vn) / "
            f"email address '{text}' is not valid"
        )
    local, domain = text.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def _zalo(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not _ZALO_ID.match(text):
        raise ValueError(
            f"mã người dùng Zalo '{text}' phải là dãy chữ số (user_id người quan tâm OA) / "
            f"Zalo user id '{text}' must be digits (the OA follower's user_id)"
        )
    return text


Phone = Annotated[str | None, AfterValidator(_phone)]
Email = Annotated[str | None, AfterValidator(_email)]
ZaloId = Annotated[str | None, AfterValidator(_zalo)]


def reachable_channels(email: str | None, zalo_user_id: str | None,
                       phone: str | None) -> list[ChannelName]:
    """Channels this person has an address on: Zalo (OA follower id, or phone for ZNS), email."""
    out: list[ChannelName] = []
    if zalo_user_id or phone:
        out.append("zalo")
    if email:
        out.append("email")
    return out


class PersonSpec(BaseModel):
    """One person: name, role, unit, chức danh (what plan `owner` texts name) and contacts."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: Text
    role: PersonRole = "officer"
    unit: Slug | None = None  # defaults to the file's `unit`
    title: OptText | None = None
    email: Email = None
    zalo_user_id: ZaloId = None
    phone: Phone = None
    channels: list[ChannelName] | None = None
    active: bool = True

    @field_validator("zalo_user_id", "phone", mode="before")
    @classmethod
    def _digits_as_text(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(
                "hãy viết trong dấu nháy, ví dụ \"0912 345 678\" (không có nháy, số 0 đầu bị mất) "
                "/ write it in quotes, e.g. \"0912 345 678\" (unquoted, the leading 0 is lost)"
            )
        return value

    @property
    def preferred_channels(self) -> list[ChannelName]:
        """The stated order, or Zalo first (where an id or phone exists) then email."""
        if self.channels is not None:
            return list(self.channels)
        return reachable_channels(self.email, self.zalo_user_id, self.phone)

    @model_validator(mode="after")
    def _contacts(self) -> PersonSpec:
        problems: list[tuple[Loc, str, str]] = []
        can = reachable_channels(self.email, self.zalo_user_id, self.phone)
        if not can:
            problems.append((
                (),
                f"'{self.name}': phải có ít nhất một địa chỉ nhận nhắc việc (email, mã Zalo hoặc "
                "số điện thoại)",
                f"'{self.name}': at least one contact is required (email, Zalo user id or phone)",
            ))
        for i, ch in enumerate(self.channels or []):
            if ch in (self.channels or [])[:i]:
                problems.append((("channels", i), f"kênh '{ch}' được ghi hai lần",
                                 f"channel '{ch}' is listed twice"))
            elif can and ch not in can:
                need_vi = "mã Zalo hoặc số điện thoại" if ch == "zalo" else "địa chỉ email"
                need_en = "a Zalo user id or a phone" if ch == "zalo" else "an email address"
                problems.append((
                    ("channels", i),
                    f"'{self.name}' chọn kênh '{ch}' nhưng không có {need_vi}",
                    f"'{self.name}' prefers channel '{ch}' but has no {need_en}",
                ))
        if self.channels is not None and not self.channels and can:
            problems.append((("channels",), "danh sách kênh không được rỗng",
                             "the channel list must not be empty"))
        if problems:
            raise SpecProblems(problems)
        return self


class PeopleFile(BaseModel):
    """`people.yaml`: the people of one or more units."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    schema_version: Literal[1] = 1
    unit: Slug | None = None  # the unit of every person that names none
    people: Annotated[list[PersonSpec], Field(min_length=1)]

    def unit_of(self, person: PersonSpec) -> str:
        unit = person.unit or self.unit
        assert unit is not None  # checked by the validator
        return unit

    @model_validator(mode="after")
    def _units_and_names(self) -> PeopleFile:
        problems: list[tuple[Loc, str, str]] = []
        seen: dict[tuple[str, str], int] = {}
        for i, p in enumerate(self.people):
            unit = p.unit or self.unit
            if unit is None:
                problems.append((
                    ("people", i, "unit"),
                    f"'{p.name}': thiếu mã đơn vị (ghi 'unit' cho người này hoặc ở đầu tệp)",
                    f"'{p.name}': no unit (give 'unit' here or at the top of the file)",
                ))
                continue
            key = (unit, p.name.casefold())
            if key in seen:
                problems.append((
                    ("people", i, "name"),
                    f"'{p.name}' được ghi hai lần trong đơn vị '{unit}' (lần đầu ở "
                    f"people[{seen[key]}])",
                    f"'{p.name}' is listed twice in unit '{unit}' (first at people[{seen[key]}])",
                ))
            else:
                seen[key] = i
        if problems:
            raise SpecProblems(problems)
        return self


__all__ = [
    "CHANNELS",
    "ChannelName",
    "PeopleFile",
    "PersonRole",
    "PersonSpec",
    "normalize_phone",
    "reachable_channels",
]
