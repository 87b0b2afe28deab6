"""One phone normaliser (vntext.phones): the people schema and the Zalo channel agree."""

from __future__ import annotations

import re

import pytest

from notifications.zalo import InvalidPhoneError, normalise_phone
from plans.people_schema import PersonSpec
from vntext.phones import PhoneError, normalize_phone

# Forms officers and exports really produce; the schema refused the last three before.
ACCEPTED = [
    ("0912 345 678", "84912345678"),
    ("+84 912 345 678", "84912345678"),
    ("(+84) 912.345.678", "84912345678"),
    ("84912345678", "84912345678"),
    ("0084912345678", "84912345678"),
    ("840912345678", "84912345678"),
    ("+84-0912-345-678", "84912345678"),
    ("+84 (0) 912 345 678", "84912345678"),
]
REFUSED = [
    ("0212 345 678", "không phải số di động"),
    ("02438251234", "10 chữ số"),
    ("0168 812 3456", "10 chữ số"),
    ("+1 415 555 0100", "+84"),
    ("zalo:0912345678", "không phải chữ số"),
    ("0912 34a 678", "không phải chữ số"),
    ("+84 +912345678", "không phải chữ số"),
    ("1912345678", "10 chữ số"),
]


@pytest.mark.parametrize(("typed", "stored"), ACCEPTED)
def test_schema_and_zalo_store_the_same_number(typed: str, stored: str) -> None:
    assert normalize_phone(typed) == stored
    assert PersonSpec(name="A", unit="vinh-thanh", phone=typed).phone == stored
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize(("typed", "reason"), REFUSED)
def test_schema_and_zalo_refuse_the_same_numbers(typed: str, reason: str) -> None:
    with pytest.raises(PhoneError, match=re.escape(reason)) as info:
        normalize_phone(typed)
    assert typed.strip() in info.value.vi and typed.strip() in info.value.en
    with pytest.raises(ValueError, match=re.escape(reason)):
        PersonSpec(name="A", unit="vinh-thanh", phone=typed)
    with pytest.raises(InvalidPhoneError) as zalo:
        normalise_phone(typed)
    assert zalo.value.code == "invalid_phone" and typed.strip() in zalo.value.reason


def test_empty_number_is_refused_by_the_channel() -> None:
    with pytest.raises(InvalidPhoneError):
        normalise_phone("  ")
