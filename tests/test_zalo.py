"""Zalo channel against a fake Zalo over real HTTP on loopback (no httpx mocks).

Covers the ZNS / OA / refresh contract, the error-code table, the OA → ZNS → e-mail
fallbacks, token refresh (reactive, proactive, single-use) and, the reason the token store
exists, two dispatchers hitting an expired token at once: exactly one refresh.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import select
from zalo_fake import (
    OA_CS_PATH,
    OA_TRANSACTION_PATH,
    REFRESH_PATH,
    SECRET_KEY,
    TEMPLATE_ID,
    ZNS_PATH,
    FakeZalo,
)

from engine.reminders.zalo_tokens import SqlTokenStore
from engine.storage.database import Database
from engine.storage.models import ZaloToken
from notifications.base import (
    ChannelBroken,
    Delivery,
    DeliveryError,
    Digest,
    DueItem,
    FallbackError,
    Message,
    PermanentError,
    Recipient,
    TransientError,
    UnknownOutcome,
)
from notifications.channels.zalo import ZaloChannel
from notifications.render import render_zalo
from notifications.settings import ZaloSettings
from notifications.zalo import (
    InvalidPhoneError,
    IssuedTokens,
    MemoryTokenStore,
    TokenPair,
    TokenStore,
    ZaloClient,
    normalise_phone,
)

T = TypeVar("T")
APP = "https://cchc.vinhthanh.gov.vn"
DIGEST = Digest(
    key="outbox-42", recipient=Recipient(name="Nguyễn Văn A"), send_on=date(2023, 9, 13),
    items=(DueItem(kind="obligation", title="Báo cáo CCHC quý III", due_on=date(2023, 9, 20),
                   step="before:7", days=7, unit_name="xã Vĩnh Thạnh",
                   plan="Kế hoạch số 147/KH-UBND ngày 16/02/2023",
                   link="/units/vinh-thanh/obligations/4"),),
    app_url=APP)
RENDERED = render_zalo(DIGEST)
DATA = RENDERED.template_data


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture
def fake() -> Iterator[FakeZalo]:
    with FakeZalo() as server:
        yield server


def message(
    *, user_id: str | None = None, phone: str | None = None, tracking_id: str = "outbox-42"
) -> Message:
    """A real rendered digest (ZNS parameters, OA transaction template) for one person."""
    return replace(RENDERED, tracking_id=tracking_id,
                   recipient=Recipient(name="Nguyễn Văn A", zalo_user_id=user_id, phone=phone))


async def send(settings: ZaloSettings, store: TokenStore, msg: Message) -> Delivery:
    channel = ZaloChannel(settings, store)
    try:
        return await channel.send(msg)
    finally:
        await channel.aclose()


def send_error(settings: ZaloSettings, store: TokenStore, msg: Message) -> DeliveryError:
    with pytest.raises(DeliveryError) as info:
        run(send(settings, store, msg))
    return info.value


def secret(value: Any) -> str:
    assert value is not None
    return str(value.get_secret_value())


# -- ZNS ------------------------------------------------------------------------------------


def test_zns_success_sends_normalised_phone_tracking_id_and_data(fake: FakeZalo) -> None:
    settings = fake.settings()
    delivery = run(send(settings, MemoryTokenStore(settings), message(phone="0912 345 678")))

    (call,) = fake.calls(ZNS_PATH)
    assert call.headers["access_token"] == secret(settings.access_token)
    assert call.json == {
        "phone": "84912345678",
        "template_id": TEMPLATE_ID,
        "template_data": DATA,
        "tracking_id": "outbox-42",
    }
    assert delivery.provider_message_id == call.answer["data"]["msg_id"]
    assert delivery.provider_message_id.startswith("zns-")
    assert delivery.accepted == ("zns:84912345678",)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (-100, TransientError),
        (-108, FallbackError),  # bad phone: e-mail may still reach the person
        (-109, FallbackError),  # template refused: this channel cannot carry the message
        (-112, FallbackError),
        (-115, ChannelBroken),  # no balance: nobody is reachable by ZNS until topped up
        (-118, FallbackError),
        (-131, TransientError),
        (-133, TransientError),
        (-999, PermanentError),
        (500, TransientError),
        (503, TransientError),
        (404, PermanentError),
    ],
)
def test_zns_error_codes_map_to_exception_kinds(
    fake: FakeZalo, error: int, expected: type[DeliveryError]
) -> None:
    settings = fake.settings()
    fake.script(ZNS_PATH, error)
    exc = send_error(settings, MemoryTokenStore(settings), message(phone="0912345678"))
    assert type(exc) is expected
    assert exc.code == (str(error) if error < 0 else f"http_{error}")
    if error < 0:
        assert str(error) in exc.reason


def test_zns_real_validation_errors_from_the_server(fake: FakeZalo) -> None:
    settings = fake.settings(zns_template_id="no-such-template")
    exc = send_error(settings, MemoryTokenStore(settings), message(phone="0912345678"))
    assert type(exc) is FallbackError and exc.code == "-109"

    settings = fake.settings()
    fake.no_zalo.add("84912345678")
    exc = send_error(settings, MemoryTokenStore(settings), message(phone="+84 912 345 678"))
    assert isinstance(exc, FallbackError) and exc.code == "-118"


def test_zns_timeout_is_an_unknown_outcome_connection_refused_transient(fake: FakeZalo) -> None:
    settings = fake.settings(timeout=0.3)
    fake.script(ZNS_PATH, 500, delay=1.0)
    exc = send_error(settings, MemoryTokenStore(settings), message(phone="0912345678"))
    # the request went out; Zalo may have delivered it: not a plain "try again"
    assert type(exc) is UnknownOutcome and exc.code == "unknown_outcome"

    closed = FakeZalo().start()
    dead_url = closed.base_url
    closed.stop()
    settings = fake.settings(zns_api_base=dead_url)
    exc = send_error(settings, MemoryTokenStore(settings), message(phone="0912345678"))
    assert type(exc) is TransientError and exc.code == "connection"


def test_zns_invalid_token_refreshes_retries_and_stores_new_pair(fake: FakeZalo) -> None:
    settings = fake.settings()
    original_rt = secret(settings.refresh_token)
    fake.revoke(secret(settings.access_token))
    store = MemoryTokenStore(settings)

    delivery = run(send(settings, store, message(phone="0912345678")))

    assert delivery.provider_message_id.startswith("zns-")
    first, second = fake.calls(ZNS_PATH)
    assert first.answer["error"] == -124 and second.answer["error"] == 0
    (refresh,) = fake.calls(REFRESH_PATH)
    assert refresh.headers["secret_key"] == SECRET_KEY
    assert refresh.form == {
        "refresh_token": original_rt,
        "app_id": settings.app_id,
        "grant_type": "refresh_token",
    }
    stored = store.load()
    assert stored.access_token == refresh.answer["access_token"]
    assert stored.refresh_token == refresh.answer["refresh_token"]
    assert stored.version == 2
    assert second.headers["access_token"] == stored.access_token


def test_zns_without_template_or_with_bad_phone_falls_back(fake: FakeZalo) -> None:
    settings = fake.settings(zns_template_id=None)
    exc = send_error(settings, MemoryTokenStore(settings), message(phone="0912345678"))
    assert isinstance(exc, FallbackError) and exc.code == "no_template"

    settings = fake.settings()
    exc = send_error(settings, MemoryTokenStore(settings), message(phone="12345"))
    assert isinstance(exc, FallbackError) and exc.code == "invalid_phone"
    assert fake.calls(ZNS_PATH) == []


# -- phone numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912 345 678", "84912345678"),
        ("0912345678", "84912345678"),
        ("+84912345678", "84912345678"),
        ("+84 912 345 678", "84912345678"),
        ("84912345678", "84912345678"),
        ("(091) 234-5678", "84912345678"),
        ("091.234.5678", "84912345678"),
        ("0084912345678", "84912345678"),
        ("+84 (0) 912 345 678", "84912345678"),
        ("0389 123 456", "84389123456"),
        (" 0701234567 ", "84701234567"),
    ],
)
def test_normalise_phone_accepts(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "091234567",  # 9 digits
        "09123456789",  # 11 digits
        "0212345678",  # not a mobile prefix
        "02438251234",  # Hà Nội landline
        "+1 415 555 0100",
        "+8491234567",  # 8 digits after 84
        "8491234567",
        "0912-345-67x",
        "zalo:0912345678",
        "1912345678",
    ],
)
def test_normalise_phone_rejects(raw: str) -> None:
    with pytest.raises(InvalidPhoneError) as info:
        normalise_phone(raw)
    assert isinstance(info.value, ValueError) and isinstance(info.value, PermanentError)
    assert "number" in info.value.reason


# -- OA messages ----------------------------------------------------------------------------


def test_oa_transaction_template_with_a_button_to_the_item(fake: FakeZalo) -> None:
    settings = fake.settings()
    delivery = run(send(settings, MemoryTokenStore(settings), message(user_id="8231000001")))

    (call,) = fake.calls(OA_TRANSACTION_PATH)
    assert call.headers["access_token"] == secret(settings.access_token)
    assert call.answer["error"] == 0
    assert call.json["recipient"] == {"user_id": "8231000001"}
    attachment = call.json["message"]["attachment"]
    assert attachment["type"] == "template"
    payload = attachment["payload"]
    assert (payload["template_type"], payload["language"]) == ("transaction_order", "VI")
    kinds = [e["type"] for e in payload["elements"]]
    assert kinds == ["header", "text", "table"]
    assert "Kế hoạch số 147/KH-UBND" in payload["elements"][1]["content"]
    [row] = payload["elements"][2]["content"]
    assert row == {"key": "Báo cáo CCHC quý III", "value": "còn 7 ngày, hạn 20/09/2023"}
    [button] = payload["buttons"]
    assert button["type"] == "oa.open.url"
    assert button["payload"] == {"url": f"{APP}/units/vinh-thanh/obligations/4"}
    assert delivery.provider_message_id == call.answer["data"]["message_id"]
    assert delivery.accepted == ("oa:8231000001",)
    assert fake.calls(ZNS_PATH) == []


def test_fake_refuses_plain_text_and_oversize_elements_as_transaction(fake: FakeZalo) -> None:
    settings = fake.settings()
    plain = replace(message(user_id="u1"), oa_payload={})
    exc = send_error(settings, MemoryTokenStore(settings), plain)
    assert isinstance(exc, FallbackError) and exc.code == "no_template"

    async def raw(body: dict[str, Any]) -> int:
        async with httpx.AsyncClient() as http:
            r = await http.post(fake.base_url + OA_TRANSACTION_PATH, json=body,
                                headers={"access_token": secret(settings.access_token)})
            return int(r.json()["error"])

    text = {"recipient": {"user_id": "u1"}, "message": {"text": "Nhắc việc"}}
    assert run(raw(text)) == -201
    good = {"recipient": {"user_id": "u1"},
            "message": {"attachment": {"type": "template", "payload": RENDERED.oa_payload}}}
    assert run(raw(good)) == 0
    long_header = {**RENDERED.oa_payload, "elements": [{"type": "header", "content": "x" * 101}]}
    bad = {"recipient": {"user_id": "u1"},
           "message": {"attachment": {"type": "template", "payload": long_header}}}
    assert run(raw(bad)) == -201


def test_oa_cs_only_inside_the_interaction_window(fake: FakeZalo) -> None:
    settings = fake.settings(oa_message_kind="cs")
    fake.interacted.add("u1")
    long = replace(message(user_id="u1"), text="x" * 5000)
    run(send(settings, MemoryTokenStore(settings), long))
    (call,) = fake.calls(OA_CS_PATH)
    assert len(call.json["message"]["text"]) == 2000
    assert fake.calls(OA_TRANSACTION_PATH) == []
    # u2 has not written to the OA lately: cs is refused (-230), the transaction goes out
    delivery = run(send(settings, MemoryTokenStore(settings), message(user_id="u2")))
    assert [c.answer["error"] for c in fake.calls(OA_CS_PATH)] == [0, -230]
    (tx,) = fake.calls(OA_TRANSACTION_PATH)
    assert tx.answer["error"] == 0 and delivery.provider_message_id.startswith("oa-")


@pytest.mark.parametrize("error", [-213, -230, -232])
def test_oa_unreachable_falls_back_to_zns_when_phone_known(fake: FakeZalo, error: int) -> None:
    settings = fake.settings()
    fake.script(OA_TRANSACTION_PATH, error)
    delivery = run(
        send(settings, MemoryTokenStore(settings), message(user_id="u1", phone="0912345678"))
    )
    (zns,) = fake.calls(ZNS_PATH)
    assert delivery.provider_message_id == zns.answer["data"]["msg_id"]
    assert zns.json["template_data"] == DATA and zns.json["tracking_id"] == "outbox-42"


@pytest.mark.parametrize("error", [-213, -230, -232])
def test_oa_unreachable_without_phone_raises_fallback(fake: FakeZalo, error: int) -> None:
    settings = fake.settings()
    fake.script(OA_TRANSACTION_PATH, error)
    exc = send_error(settings, MemoryTokenStore(settings), message(user_id="u1"))
    assert isinstance(exc, FallbackError) and exc.code == str(error)
    assert "fall back" in exc.reason

    # a phone but no ZNS template: still the dispatcher's turn (e-mail)
    settings = fake.settings(zns_template_id=None)
    fake.script(OA_TRANSACTION_PATH, error)
    both = message(user_id="u1", phone="0912345678")
    exc = send_error(settings, MemoryTokenStore(settings), both)
    assert isinstance(exc, FallbackError) and exc.code == str(error)
    assert fake.calls(ZNS_PATH) == []


def test_oa_then_zns_both_unreachable_is_fallback_with_both_reasons(fake: FakeZalo) -> None:
    settings = fake.settings()
    fake.not_following.add("u1")
    fake.no_zalo.add("84912345678")
    exc = send_error(
        settings, MemoryTokenStore(settings), message(user_id="u1", phone="0912345678")
    )
    assert isinstance(exc, FallbackError)
    assert "-213" in exc.reason and "-118" in exc.reason

    fake.script(ZNS_PATH, -100)
    exc = send_error(
        settings, MemoryTokenStore(settings), message(user_id="u1", phone="0912345678")
    )
    assert type(exc) is TransientError  # ZNS says "later": retry the whole send later


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (-32, TransientError),
        (-234, TransientError),
        (-201, FallbackError),
        (-299, PermanentError),
        (500, TransientError),
    ],
)
def test_oa_error_codes_map_to_exception_kinds(
    fake: FakeZalo, error: int, expected: type[DeliveryError]
) -> None:
    settings = fake.settings()
    fake.script(OA_TRANSACTION_PATH, error, message="Lỗi từ Zalo")
    # (a FallbackError with a phone would go on to ZNS: see the fallback tests)
    both = message(user_id="u1", phone=None if expected is FallbackError else "0912345678")
    exc = send_error(settings, MemoryTokenStore(settings), both)
    assert type(exc) is expected
    if error == -234:
        assert "22:00" in exc.reason
    if error == -299:
        assert "-299" in exc.reason and "Lỗi từ Zalo" in exc.reason
    if expected is not FallbackError:
        assert fake.calls(ZNS_PATH) == []  # only FallbackError switches to ZNS


@pytest.mark.parametrize("how", ["invalid -216", "expired -220"])
def test_oa_refused_token_refreshes_and_retries_once(fake: FakeZalo, how: str) -> None:
    settings = fake.settings()
    if how.endswith("-216"):
        fake.revoke(secret(settings.access_token))
    else:
        fake.expire_access_tokens()
    store = MemoryTokenStore(settings)
    delivery = run(send(settings, store, message(user_id="u1")))

    first, second = fake.calls(OA_TRANSACTION_PATH)
    assert first.answer["error"] == int(how[-4:])
    assert second.answer["error"] == 0
    assert delivery.provider_message_id == second.answer["data"]["message_id"]
    assert len(fake.calls(REFRESH_PATH)) == 1
    assert store.load().access_token == second.headers["access_token"]


def test_token_refused_again_after_refresh_is_transient(fake: FakeZalo) -> None:
    settings = fake.settings()
    fake.script(OA_TRANSACTION_PATH, -216, times=2)
    exc = send_error(settings, MemoryTokenStore(settings), message(user_id="u1"))
    assert type(exc) is TransientError and "after a token refresh" in exc.reason
    assert len(fake.calls(OA_TRANSACTION_PATH)) == 2  # retried once, not more
    assert len(fake.calls(REFRESH_PATH)) == 1


# -- token refresh --------------------------------------------------------------------------


@pytest.mark.parametrize("as_string", [True, False])
def test_expires_in_string_or_int(fake: FakeZalo, as_string: bool) -> None:
    fake.expires_in_as_string = as_string
    fake.token_lifetime = 7200
    settings = fake.settings(access_token=None)  # only a refresh token: refresh first
    now = datetime(2023, 9, 20, 2, 0, tzinfo=UTC)
    store = MemoryTokenStore(settings, clock=lambda: now)
    run(send(settings, store, message(user_id="u1")))

    (refresh,) = fake.calls(REFRESH_PATH)
    assert refresh.answer["expires_in"] == ("7200" if as_string else 7200)
    assert store.load().expires_at == now + timedelta(seconds=7200)
    (call,) = fake.calls(OA_TRANSACTION_PATH)
    assert call.headers["access_token"] == refresh.answer["access_token"]


def test_expired_pair_is_refreshed_before_use(fake: FakeZalo) -> None:
    settings = fake.settings()
    clock = [datetime(2023, 9, 20, 2, 0, tzinfo=UTC)]
    store = MemoryTokenStore(settings, clock=lambda: clock[0])
    run(send(settings, store, message(user_id="u1")))
    assert fake.calls(REFRESH_PATH) == []

    clock[0] += timedelta(hours=25)  # past the seeded token's 90000 s
    run(send(settings, store, message(user_id="u1")))
    (refresh,) = fake.calls(REFRESH_PATH)
    last = fake.calls(OA_TRANSACTION_PATH)[-1]
    assert last.headers["access_token"] == refresh.answer["access_token"]
    assert [c.answer["error"] for c in fake.calls(OA_TRANSACTION_PATH)] == [0, 0]


@pytest.mark.parametrize("status", [200, 400])
def test_reused_refresh_token_is_permanent(fake: FakeZalo, status: int) -> None:
    fake.refresh_error_status = status
    settings = fake.settings()
    rt = secret(settings.refresh_token)

    async def twice() -> None:
        async with httpx.AsyncClient() as http:
            client = ZaloClient(settings, http)
            first = await client.refresh(rt)
            assert isinstance(first, IssuedTokens)
            await client.refresh(rt)

    with pytest.raises(PermanentError) as info:
        run(twice())
    assert type(info.value) is ChannelBroken and info.value.code == "-14014"
    assert "re-authorise" in info.value.reason

    # the channel's store still holds the spent token: Zalo is broken for everyone (the
    # dispatcher falls back to e-mail and alerts the admin), not a plain failure
    fake.revoke(secret(settings.access_token))
    exc = send_error(settings, MemoryTokenStore(settings), message(user_id="u1",
                                                                   phone="0912345678"))
    assert type(exc) is ChannelBroken and "re-authorise the OA" in exc.reason
    assert fake.calls(ZNS_PATH) == []  # not tried: ZNS needs the same token


def test_secrets_never_in_repr_or_errors(fake: FakeZalo) -> None:
    settings = fake.settings()
    at, rt = secret(settings.access_token), secret(settings.refresh_token)
    secrets_ = (SECRET_KEY, at, rt)
    for text in (repr(settings), str(settings)):
        assert not any(s in text for s in secrets_)
    pair = TokenPair(at, rt, datetime.now(UTC))
    assert at not in repr(pair) and rt not in repr(pair)
    assert rt not in repr(IssuedTokens(at, rt, 60))

    errors: list[DeliveryError] = []
    fake.script(OA_TRANSACTION_PATH, -299, message=f"bad token {at}")
    errors.append(send_error(settings, MemoryTokenStore(settings), message(user_id="u1")))
    fake.script(ZNS_PATH, -999, message=f"token={at} secret={SECRET_KEY}")
    errors.append(send_error(settings, MemoryTokenStore(settings), message(phone="0912345678")))
    fake.revoke(at)
    fake.script(REFRESH_PATH, -14014, message=f"refresh token {rt} was used")
    errors.append(send_error(settings, MemoryTokenStore(settings), message(user_id="u1")))
    fake.script(REFRESH_PATH, -14001, message=f"secret {SECRET_KEY} / {rt}")
    errors.append(send_error(settings, MemoryTokenStore(settings), message(user_id="u1")))
    fake.script(ZNS_PATH, 500, delay=1.0)
    quick = settings.model_copy(update={"timeout": 0.2})
    errors.append(send_error(quick, MemoryTokenStore(quick), message(phone="0912345678")))
    for exc in errors:
        for text in (str(exc), exc.reason, repr(exc), str(exc.code)):
            assert not any(s in text for s in secrets_), text
    assert [e.code for e in errors] == ["-299", "-999", "-14014", "-14001", "unknown_outcome"]


def test_unconfigured_tokens_are_permanent(fake: FakeZalo) -> None:
    settings = fake.settings(access_token=None, refresh_token=None)
    exc = send_error(settings, MemoryTokenStore(settings), message(user_id="u1"))
    assert type(exc) is ChannelBroken and exc.code == "not_configured"


# -- the SQL token store --------------------------------------------------------------------


def _stored(url: str) -> ZaloToken:
    db = Database(url)
    try:
        with db.read() as session:
            return session.execute(select(ZaloToken)).scalar_one()
    finally:
        db.dispose()


def test_sql_store_seeds_from_settings_and_keeps_refreshed_pair(
    fake: FakeZalo, db_url: str
) -> None:
    db = Database(db_url)
    db.upgrade()
    settings = fake.settings()
    now = datetime(2023, 9, 20, 2, 0, 0, 123456, tzinfo=UTC)
    try:
        store = SqlTokenStore(db, settings, clock=lambda: now)
        seeded = store.load()
        assert (seeded.access_token, seeded.version) == (secret(settings.access_token), 1)
        assert seeded.expires_at == now + timedelta(seconds=90000)

        fake.revoke(seeded.access_token)
        run(send(settings, store, message(user_id="u1")))
        (refresh,) = fake.calls(REFRESH_PATH)

        again = SqlTokenStore(db.engine, settings, clock=lambda: now).load()
        assert again.access_token == refresh.answer["access_token"]
        assert again.refresh_token == refresh.answer["refresh_token"]
        assert again.version == 2
        assert again.expires_at == now + timedelta(seconds=90000)
    finally:
        db.dispose()
    row = _stored(db_url)
    assert row.oa_id == "fake-oa" and row.refresh_token == refresh.answer["refresh_token"]


def test_replace_stores_an_admin_pair_without_configured_tokens(
    fake: FakeZalo, tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'admin.sqlite3'}"
    db = Database(url)
    db.upgrade()
    settings = fake.settings(access_token=None, refresh_token=None)
    tokens = fake.issue_tokens()
    try:
        stored = SqlTokenStore(db, settings).replace(*tokens, expires_in=3600)
        assert stored.version == 1
        run(send(settings, SqlTokenStore(db, settings), message(user_id="u1")))
    finally:
        db.dispose()
    (call,) = fake.calls(OA_TRANSACTION_PATH)
    assert call.headers["access_token"] == tokens.access_token
    assert _stored(url).refresh_token == tokens.refresh_token


def test_sql_store_database_errors_are_transient_without_secrets(
    fake: FakeZalo, tmp_path: Any
) -> None:
    settings = fake.settings()
    db = Database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")  # never migrated
    try:
        exc = send_error(settings, SqlTokenStore(db, settings), message(user_id="u1"))
    finally:
        db.dispose()
    assert type(exc) is TransientError and exc.code == "token_store"
    assert secret(settings.access_token) not in str(exc)


def test_two_sends_in_one_loop_share_one_refresh(fake: FakeZalo, tmp_path: Any) -> None:
    fake.refresh_delay = 0.2
    settings = fake.settings()
    db = Database(f"sqlite:///{tmp_path / 'one.sqlite3'}")
    db.upgrade()
    fake.expire_access_tokens()

    async def both() -> list[Delivery]:
        channel = ZaloChannel(settings, SqlTokenStore(db, settings))
        try:
            return list(await asyncio.gather(
                channel.send(message(user_id="u1")), channel.send(message(user_id="u2"))
            ))
        finally:
            await channel.aclose()

    try:
        deliveries = run(both())
    finally:
        db.dispose()
    assert len(deliveries) == 2
    assert len(fake.calls(REFRESH_PATH)) == 1


# -- two dispatchers, one expired token -----------------------------------------------------


def _dispatcher(
    url: str, values: dict[str, Any], user_id: str, start: Any, results: Any
) -> None:
    """One dispatcher: its own engine, token store, HTTP client and event loop."""
    settings = ZaloSettings.model_validate(values)
    db = Database(url)
    try:
        store = SqlTokenStore(db, settings)
        start.wait(timeout=20)
        delivery = asyncio.run(send(settings, store, message(user_id=user_id)))
        results.put(("ok", delivery.provider_message_id))
    except Exception as exc:
        results.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        db.dispose()


def _prepare_race(fake: FakeZalo, url: str, mode: str) -> tuple[dict[str, Any], str]:
    fake.refresh_delay = 0.25  # the second dispatcher surely waits on the lock
    settings = fake.settings()
    db = Database(url)
    db.upgrade()
    store = SqlTokenStore(db, settings)
    store.load()  # seed the row
    if mode == "proactive":  # the stored pair says: expired
        store.replace(secret(settings.access_token), secret(settings.refresh_token), -60)
    else:  # the stored pair looks fine, Zalo says -220
        fake.expire_access_tokens()
    db.dispose()
    values = {
        "api_base": fake.base_url,
        "CCHC_ZNS_API_BASE": fake.base_url,
        "oauth_base": fake.base_url,
        "app_id": settings.app_id,
        "secret_key": SECRET_KEY,
        "oa_id": settings.oa_id,
        "access_token": secret(settings.access_token),
        "refresh_token": secret(settings.refresh_token),
        "zns_template_id": TEMPLATE_ID,
        "timeout": 10.0,
    }
    return values, secret(settings.refresh_token)


def _check_race(fake: FakeZalo, url: str, original_rt: str, outcomes: list[Any]) -> None:
    assert sorted(kind for kind, _ in outcomes) == ["ok", "ok"], outcomes
    refreshes = fake.calls(REFRESH_PATH)
    assert len(refreshes) == 1, [r.form for r in refreshes]
    assert refreshes[0].form["refresh_token"] == original_rt
    new = refreshes[0].answer
    row = _stored(url)
    assert (row.access_token, row.refresh_token) == (new["access_token"], new["refresh_token"])
    assert row.version >= 2
    sent = [c for c in fake.calls(OA_TRANSACTION_PATH) if c.answer["error"] == 0]
    assert len(sent) == 2
    assert {c.headers["access_token"] for c in sent} == {new["access_token"]}


@pytest.mark.parametrize("mode", ["proactive", "reactive"])
def test_concurrent_dispatchers_threads_refresh_once(
    fake: FakeZalo, db_url: str, mode: str
) -> None:
    values, original_rt = _prepare_race(fake, db_url, mode)
    start = threading.Barrier(2)
    results: queue.Queue[tuple[str, str]] = queue.Queue()
    threads = [
        threading.Thread(target=_dispatcher, args=(db_url, values, f"u{i}", start, results))
        for i in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    _check_race(fake, db_url, original_rt, [results.get_nowait() for _ in threads])


@pytest.mark.slow
def test_concurrent_dispatchers_processes_refresh_once(fake: FakeZalo, db_url: str) -> None:
    values, original_rt = _prepare_race(fake, db_url, "reactive")
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_dispatcher, args=(db_url, values, f"u{i}", start, results))
        for i in range(2)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert [p.exitcode for p in procs] == [0, 0]
    _check_race(fake, db_url, original_rt, outcomes)
