"""EmailChannel against a real in-process SMTP server (aiosmtpd on 127.0.0.1), never a mock."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import email.utils
import logging
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from engine.clock import VN_TZ, fixed_clock
from notifications.base import FallbackError, Message, PermanentError, Recipient, TransientError
from notifications.channels import EmailChannel
from notifications.settings import SmtpSettings

SUBJECT = "[CCHC] 3 việc đến hạn — xã Vĩnh Thạnh"
TEXT = (
    "Kính gửi Nguyễn Thị Hồng Nhung,\n\n"
    "1. Báo cáo công tác cải cách hành chính quý I\n"
    "   Hạn: 15/03/2025 — còn 3 ngày\n"
    ".dòng bắt đầu bằng dấu chấm\n"
)
HTML = "<p>Kính gửi Nguyễn Thị Hồng Nhung,</p><p>Hạn: 15/03/2025 — còn 3 ngày</p>\n"
SENDER = "cchc@noivu.khanhhoa.gov.vn"
NOW = datetime(2025, 3, 12, 7, 30, tzinfo=VN_TZ)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    tls: bool = False

    def parsed(self) -> EmailMessage:
        msg = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Handler:
    """Records what arrives; scripted replies for RCPT and DATA; counts connections."""

    messages: list[Received] = field(default_factory=list)
    ehlo_count: int = 0
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_replies: list[str] = field(default_factory=list)
    close_after_data: bool = False
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.ehlo_count += 1
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        tls = server.transport.get_extra_info("ssl_object") is not None
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content, tls)
        )
        if self.close_after_data:
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 2.0.0 queued"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(handler: Handler, **kw: Any) -> Iterator[Controller]:
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), **kw)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def handler() -> Handler:
    return Handler()


@pytest.fixture
def server(handler: Handler) -> Iterator[Controller]:
    with serving(handler) as controller:
        yield controller


def _settings(port: int, **kw: Any) -> SmtpSettings:
    """Explicit values for every field, so a developer's CCHC_SMTP_* or .env never leaks in."""
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "CCHC_SMTP_FROM": SENDER,
        "sender_name": "Hệ thống CCHC",
        "username": None,
        "password": None,
        "security": "none",
        "timeout": 5.0,
    }
    values.update(kw)
    return SmtpSettings(_env_file=None, **values)


def _channel(port: int, **kw: Any) -> EmailChannel:
    return EmailChannel(_settings(port, **kw), clock=fixed_clock(NOW))


def _message(tracking_id: str = "d-2025-03-12-p7-email", **recipient: Any) -> Message:
    fields: dict[str, Any] = {"name": "Nguyễn Thị Hồng Nhung", "email": "nhung@example.vn"}
    fields.update(recipient)
    return Message(
        tracking_id=tracking_id,
        recipient=Recipient(**fields),
        subject=SUBJECT,
        text=TEXT,
        html=HTML,
    )


def _raw_header(raw: bytes, name: str) -> str:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # headers are pure ASCII
    unfolded = re.sub(r"\r\n[ \t]+", " ", head)
    for line in unfolded.split("\r\n"):
        key, _, value = line.partition(":")
        if key.lower() == name.lower():
            return value.strip()
    raise AssertionError(f"no {name} header")


async def _send_all(channel: EmailChannel, *messages: Message) -> list[Any]:
    try:
        return [await channel.send(m) for m in messages]
    finally:
        await channel.aclose()


def test_vietnamese_arrives_intact(server: Controller, handler: Handler) -> None:
    channel = _channel(server.port, sender_name="Hệ thống CCHC xã Vĩnh Thạnh, Khánh Hòa")
    (delivery,) = asyncio.run(_send_all(channel, _message()))

    assert delivery.accepted == ("nhung@example.vn",)
    assert delivery.refused == {}
    (got,) = handler.messages
    assert got.mail_from == SENDER and got.rcpt_tos == ["nhung@example.vn"]
    for name in ("Subject", "To", "From"):  # RFC 2047 encoded-words, pure ASCII on the wire
        raw = _raw_header(got.raw, name)
        assert raw.isascii() and "=?utf-8?" in raw.lower(), raw
    assert got.raw.isascii()

    msg = got.parsed()
    assert msg["Subject"] == SUBJECT
    assert msg["To"].addresses[0].display_name == "Nguyễn Thị Hồng Nhung"
    assert msg["To"].addresses[0].addr_spec == "nhung@example.vn"
    assert msg["From"].addresses[0].display_name == "Hệ thống CCHC xã Vĩnh Thạnh, Khánh Hòa"
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == TEXT
    assert html.get_content().replace("\r\n", "\n") == HTML
    assert msg["Auto-Submitted"] == "auto-generated"
    assert email.utils.parsedate_to_datetime(msg["Date"]) == NOW
    assert msg["Date"].endswith("+0700")


def test_fixed_message_id(server: Controller, handler: Handler) -> None:
    channel = _channel(server.port)
    first, again, odd = asyncio.run(
        _send_all(channel, _message(), _message(), _message("2025-03-12:p7/email"))
    )
    assert first.provider_message_id == "<cchc.d-2025-03-12-p7-email@noivu.khanhhoa.gov.vn>"
    assert again.provider_message_id == first.provider_message_id
    ids = [m.parsed()["Message-ID"] for m in handler.messages]
    assert ids[0] == ids[1] == first.provider_message_id
    assert ids[2] == odd.provider_message_id == (
        "<cchc.2025-03-12=3Ap7=2Femail@noivu.khanhhoa.gov.vn>"
    )


def test_4xx_is_transient_and_retry_delivers_once(server: Controller, handler: Handler) -> None:
    handler.data_replies.append("451 4.3.0 try later")
    channel = _channel(server.port)

    async def scenario() -> str:
        try:
            with pytest.raises(TransientError) as info:
                await channel.send(_message())
            assert "451 4.3.0 try later" in info.value.reason
            assert info.value.code == "451"
            delivery = await channel.send(_message())
            return delivery.provider_message_id
        finally:
            await channel.aclose()

    message_id = asyncio.run(scenario())
    assert len(handler.messages) == 1
    assert handler.messages[0].parsed()["Message-ID"] == message_id
    assert handler.ehlo_count == 1  # the failed transaction was reset, the connection kept


def test_refused_primary_recipient_falls_back(server: Controller, handler: Handler) -> None:
    """550 at RCPT: this address cannot receive mail — the person's next channel may."""
    handler.rcpt_replies["khongco@example.vn"] = "550 5.1.1 no such user"
    channel = _channel(server.port)

    async def scenario() -> None:
        try:
            with pytest.raises(FallbackError) as info:
                await channel.send(
                    _message(email="khongco@example.vn", cc=("pho.chu.tich@example.vn",))
                )
            assert "550 5.1.1 no such user" in info.value.reason
            assert info.value.code == "550"
            await channel.send(_message())
        finally:
            await channel.aclose()

    asyncio.run(scenario())
    assert [m.rcpt_tos for m in handler.messages] == [["nhung@example.vn"]]  # CC got nothing
    assert handler.ehlo_count == 1


def test_refused_cc_is_recorded_per_recipient(server: Controller, handler: Handler) -> None:
    handler.rcpt_replies["sai@example.vn"] = "550 5.1.1 no such user"
    channel = _channel(server.port)
    message = _message(
        cc=("pho.chu.tich@example.vn", "sai@example.vn", "NHUNG@example.vn", "không hợp lệ")
    )
    (delivery,) = asyncio.run(_send_all(channel, message))

    assert delivery.accepted == ("nhung@example.vn", "pho.chu.tich@example.vn")
    assert delivery.refused["sai@example.vn"] == "550 5.1.1 no such user"
    assert "invalid" in delivery.refused["không hợp lệ"]
    assert set(delivery.refused) == {"sai@example.vn", "không hợp lệ"}
    (got,) = handler.messages
    assert got.rcpt_tos == ["nhung@example.vn", "pho.chu.tich@example.vn"]
    cc = got.parsed()["Cc"]
    assert [a.addr_spec for a in cc.addresses] == ["pho.chu.tich@example.vn", "sai@example.vn"]


def test_connection_is_reused(server: Controller, handler: Handler) -> None:
    channel = _channel(server.port)
    messages = [_message(f"d-{n}") for n in range(50)]
    started = time.perf_counter()
    deliveries = asyncio.run(_send_all(channel, *messages))
    elapsed = time.perf_counter() - started

    assert len(handler.messages) == 50 and len(deliveries) == 50
    assert handler.ehlo_count == 1
    assert channel.connections_opened == 1
    assert elapsed < 5


def test_concurrent_sends_share_the_connection(server: Controller, handler: Handler) -> None:
    channel = _channel(server.port)

    async def scenario() -> None:
        try:
            await asyncio.gather(*(channel.send(_message(f"c-{n}")) for n in range(20)))
        finally:
            await channel.aclose()

    asyncio.run(scenario())
    assert len(handler.messages) == 20 and handler.ehlo_count == 1


def test_server_closing_between_sends_is_survived(handler: Handler) -> None:
    with serving(handler) as controller:
        channel = _channel(controller.port)
        handler.close_after_data = True

        async def scenario() -> None:
            try:
                for n in range(3):
                    await channel.send(_message(f"r-{n}"))  # straight after the server closed
            finally:
                await channel.aclose()

        asyncio.run(scenario())
    assert len(handler.messages) == 3
    assert handler.ehlo_count == 3


def test_server_idle_timeout_is_survived() -> None:
    handler = Handler()
    with serving(handler, timeout=0.2) as controller:  # the server ends idle sessions (421)
        channel = _channel(controller.port)

        async def scenario() -> None:
            try:
                await channel.send(_message("i-1"))
                await asyncio.sleep(0.5)
                await channel.send(_message("i-2"))
            finally:
                await channel.aclose()

        asyncio.run(scenario())
    assert len(handler.messages) == 2
    assert handler.ehlo_count == 2


def test_silent_server_times_out() -> None:
    with socket.socket() as listener:  # accepts (kernel backlog), never says a word
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        channel = _channel(listener.getsockname()[1], timeout=1.0)
        started = time.perf_counter()
        with pytest.raises(TransientError) as info:
            asyncio.run(_send_all(channel, _message()))
        elapsed = time.perf_counter() - started
    assert 0.9 <= elapsed < 3
    assert "timed out" in info.value.reason.lower()


def test_nothing_listening_is_transient() -> None:
    channel = _channel(_free_port())
    with pytest.raises(TransientError):
        asyncio.run(_send_all(channel, _message()))


def test_starttls_not_offered_is_permanent(server: Controller, handler: Handler) -> None:
    channel = _channel(server.port, security="starttls")
    with pytest.raises(PermanentError) as info:
        asyncio.run(_send_all(channel, _message()))
    assert "STARTTLS" in info.value.reason
    assert handler.messages == []


@pytest.fixture(scope="module")
def tls_context(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A server context with a throw-away self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_starttls(tls_context: ssl.SSLContext) -> None:
    handler = Handler()
    with serving(handler, tls_context=tls_context) as controller:
        ok = _channel(controller.port, security="starttls", validate_certs=False)
        asyncio.run(_send_all(ok, _message("tls-1"), _message("tls-2")))
        assert [m.tls for m in handler.messages] == [True, True]
        assert ok.connections_opened == 1

        strict = _channel(controller.port, security="starttls")  # self-signed: not trusted
        with pytest.raises(PermanentError) as info:
            asyncio.run(_send_all(strict, _message("tls-3")))
        assert "certificate" in info.value.reason
        plain = _channel(controller.port)  # security=none never upgrades
        asyncio.run(_send_all(plain, _message("plain")))
    assert [m.tls for m in handler.messages] == [True, True, False]


def test_implicit_tls(tls_context: ssl.SSLContext) -> None:
    handler = Handler()
    with serving(handler, ssl_context=tls_context) as controller:
        channel = _channel(controller.port, security="tls", validate_certs=False)
        asyncio.run(_send_all(channel, _message("tls")))
    assert [m.tls for m in handler.messages] == [True]
    assert handler.messages[0].parsed()["Subject"] == SUBJECT


class _Authenticator:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.handler.logins.append((auth_data.login, auth_data.password))
        ok = auth_data.login == b"vanthu" and auth_data.password == b"Mat-khau-2025!"
        return AuthResult(success=ok, handled=False)


def test_auth_only_with_username_and_no_credentials_in_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = Handler()
    caplog.set_level(logging.DEBUG)
    with serving(
        handler, authenticator=_Authenticator(handler), auth_require_tls=False
    ) as controller:
        asyncio.run(_send_all(_channel(controller.port), _message("no-auth")))
        assert handler.logins == []

        good = _channel(controller.port, username="vanthu", password="Mat-khau-2025!")
        asyncio.run(_send_all(good, _message("auth-ok")))
        assert handler.logins[-1] == (b"vanthu", b"Mat-khau-2025!")

        bad = _channel(controller.port, username="vanthu", password="sai-mat-khau-xyz")
        with pytest.raises(PermanentError) as info:
            asyncio.run(_send_all(bad, _message("auth-bad")))
    assert len(handler.messages) == 2
    assert "authentication failed" in info.value.reason
    assert "535" in info.value.reason
    texts = [str(info.value), repr(info.value), info.value.reason, caplog.text]
    texts += [repr(info.value.__cause__), repr(info.value.__context__)]
    for text in texts:
        assert "sai-mat-khau-xyz" not in text
        assert "Mat-khau-2025!" not in text


def test_can_reach() -> None:
    channel = _channel(25)
    assert channel.can_reach(Recipient(name="A", email="a@example.vn"))
    assert not channel.can_reach(Recipient(name="A", zalo_user_id="123"))
    assert not channel.can_reach(Recipient(name="A", email="  "))
