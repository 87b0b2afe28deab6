"""E-mail channel: a rendered digest as one multipart/alternative message over SMTP.

Why one kept-open connection: a morning run sends thousands of digests; a TCP (+TLS, +AUTH)
handshake per message would cost more than the message. The connection is opened on first use,
reused by every `send`, re-opened transparently when the server has dropped it while idle, and
closed with QUIT by `aclose()`. Sends on one channel are serialised (one SMTP transaction at a
time on one connection).

Why the compat32 MIME classes (MIMEMultipart/MIMEText/Header) rather than `EmailMessage`: the
same standard output (RFC 2047 encoded-word headers, base64 UTF-8 bodies; the tests parse it
back with `email.policy.default`) for a sixth of the CPU — about 0.3 ms instead of 1.8 ms a
message, most of it the modern policy's header refolding — which is what lets one connection
carry several hundred messages a second.

Why a fixed Message-ID (`<cchc.{tracking_id}@{sender domain}>`): a retry after a lost reply is
then recognisably the same message for the receiving server and for the officer's mail client.

Error mapping (see `notifications.base`): connection problems, timeouts and 4xx replies are
`TransientError`; 5xx replies, authentication failure, a refused primary recipient and missing
server features (STARTTLS/AUTH not offered) or an untrusted certificate are `PermanentError`.
Refused CC addresses do not fail the message: they are reported in `Delivery.refused`.
Reasons carry the server's reply but never the SMTP credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.message
import email.policy
import email.utils
import logging
import re
import ssl
from dataclasses import dataclass
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import ClassVar

import aiosmtplib

from notifications.base import (
    Channel,
    Clock,
    Delivery,
    DeliveryError,
    FallbackError,
    Message,
    PermanentError,
    Recipient,
    TransientError,
    utc_now,
)
from notifications.settings import SmtpSettings

log = logging.getLogger(__name__)

# Wire format: RFC 2047 encoded-word headers and base64 bodies (pure 7-bit ASCII, so no server
# needs SMTPUTF8 or 8BITMIME), CRLF line ends.
POLICY = email.policy.compat32.clone(linesep="\r\n")

_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9._+-]")
_BAD_ADDR_CHARS = re.compile(r"[\s<>(),;:\\\"\[\]]|@.*@")
_SPACES = re.compile(r"\s+")


def sender_domain(sender: str) -> str:
    """The domain of the From address (IDNA-encoded), "localhost" when there is none."""
    domain = sender.rpartition("@")[2].strip().strip(">").lower() if "@" in sender else ""
    try:
        return domain.encode("idna").decode("ascii") if domain else "localhost"
    except UnicodeError:
        return "localhost"


def message_id(tracking_id: str, domain: str) -> str:
    """`<cchc.{tracking_id}@{domain}>`; characters not allowed in a Message-ID become =XX."""
    left = _UNSAFE_ID_CHARS.sub(
        lambda m: "".join(f"={b:02X}" for b in m.group().encode("utf-8")), tracking_id
    )
    return f"<cchc.{left}@{domain}>"


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def wire_address(addr: str) -> str:
    """`addr` as it goes into the SMTP envelope and headers: ASCII, domain IDNA-encoded.

    Raises PermanentError for anything that is not a plain `local@domain`; a non-ASCII local
    part would need SMTPUTF8, which government mail servers rarely offer.
    """
    addr = addr.strip()
    local, at, domain = addr.rpartition("@")
    if not (at and local and domain) or _BAD_ADDR_CHARS.search(addr):
        raise PermanentError(f"invalid e-mail address {addr!r}")
    if not local.isascii():
        raise PermanentError(f"e-mail address {addr!r} is not ASCII (needs SMTPUTF8)")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise PermanentError(f"invalid e-mail domain in {addr!r}") from None
    return f"{local}@{domain}"


def _display(name: str, addr: str) -> str:
    """`"Name" <addr>`, the name RFC 2047-encoded when it is not ASCII."""
    return email.utils.formataddr((_one_line(name), addr), charset="utf-8")


@dataclass(frozen=True)
class Envelope:
    """SMTP recipients of one message: the primary, valid CCs, CCs rejected before sending."""

    primary: str
    cc: tuple[str, ...]
    invalid: dict[str, str]


def _reply(exc: aiosmtplib.SMTPResponseException) -> str:
    return _one_line(f"{exc.code} {exc.message}")


class EmailChannel(Channel):
    """Sends `Message`s by SMTP (aiosmtplib) with the settings of `SmtpSettings`."""

    name: ClassVar[str] = "email"
    # A repeat carries the same Message-ID, which servers and clients de-duplicate by, so a
    # send whose outcome is unknown (timeout during DATA) may be repeated.
    idempotent: ClassVar[bool] = True

    def __init__(self, settings: SmtpSettings, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self._clock = clock
        try:
            self._sender = wire_address(settings.sender)
        except PermanentError as exc:
            raise ValueError(f"CCHC_SMTP_FROM: {exc.reason}") from None
        self._domain = sender_domain(self._sender)
        self._smtp: aiosmtplib.SMTP | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self.connections_opened = 0

    # ------------------------------------------------------------------ the message

    def can_reach(self, recipient: Recipient) -> bool:
        return bool(recipient.email and recipient.email.strip())

    def compose(self, message: Message) -> email.message.Message:
        """The MIME message: text (+ HTML alternative), encoded headers, fixed Message-ID."""
        return self._build(message, self._envelope(message))

    def _envelope(self, message: Message) -> Envelope:
        if not self.can_reach(message.recipient):
            raise FallbackError("recipient has no e-mail address")
        primary = wire_address(message.recipient.email or "")
        seen = {primary.lower()}
        cc: list[str] = []
        invalid: dict[str, str] = {}
        for raw in message.recipient.cc:
            if not raw.strip():
                continue
            try:
                addr = wire_address(raw)
            except PermanentError as exc:
                invalid[raw.strip()] = exc.reason
                continue
            if addr.lower() not in seen:
                seen.add(addr.lower())
                cc.append(addr)
        return Envelope(primary, tuple(cc), invalid)

    def _build(self, message: Message, envelope: Envelope) -> email.message.Message:
        text = MIMEText(message.text, "plain", "utf-8")
        if message.html:
            html = MIMEText(message.html, "html", "utf-8")
            msg: email.message.Message = MIMEMultipart("alternative", _subparts=[text, html])
            for part in (text, html):
                del part["MIME-Version"]  # only the top level carries it
        else:
            msg = text
        files = self._attachments(message)
        if files:
            del msg["MIME-Version"]
            msg = MIMEMultipart("mixed", _subparts=[msg, *files])
        # compat32 folds a Header object into RFC 2047 words (typeshed only admits str here)
        msg["Subject"] = Header(_one_line(message.subject), "utf-8")  # type: ignore[assignment]
        msg["From"] = _display(self.settings.sender_name, self._sender)
        msg["To"] = _display(message.recipient.name, envelope.primary)
        if envelope.cc:
            msg["Cc"] = ", ".join(envelope.cc)
        msg["Date"] = email.utils.format_datetime(self._clock())
        msg["Message-ID"] = message_id(message.tracking_id, self._domain)
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
        msg["X-Auto-Response-Suppress"] = "All"  # the same for Exchange/Outlook
        msg["Content-Language"] = "vi"
        return msg

    def _attachments(self, message: Message) -> list[MIMEApplication]:
        """The message's files, in order, while their total stays within
        `max_attachment_bytes`; a missing or unreadable file, or one that does not fit, is
        left out (the text names every file and its folder)."""
        parts: list[MIMEApplication] = []
        budget = self.settings.max_attachment_bytes
        for attachment in message.attachments:
            try:
                data = attachment.path.read_bytes()
            except OSError as exc:
                log.warning("attachment %s not attached: %s", attachment.path, exc)
                continue
            if len(data) > budget:
                log.info("attachment %s not attached: over the size limit", attachment.path)
                continue
            budget -= len(data)
            part = MIMEApplication(data, _subtype=_subtype(attachment.filename))
            del part["MIME-Version"]
            part.add_header("Content-Disposition", "attachment",
                            filename=("utf-8", "", attachment.filename))
            parts.append(part)
        return parts

    # ------------------------------------------------------------------ sending

    async def send(self, message: Message) -> Delivery:
        envelope = self._envelope(message)
        mime = self._build(message, envelope)
        primary, cc, refused = envelope.primary, list(envelope.cc), dict(envelope.invalid)
        data = mime.as_bytes(policy=POLICY)
        async with self._bound_lock():
            try:
                async with asyncio.timeout(self.settings.timeout):
                    accepted, cc_refused = await self._transaction(primary, cc, data)
            except TimeoutError:
                self._drop()
                raise TransientError(
                    f"SMTP exchange with {self._where()} timed out after "
                    f"{self.settings.timeout:g} s", code="timeout"
                ) from None
            except asyncio.CancelledError:
                self._drop()  # cancelled mid-exchange: the session state is unknown
                raise
            except DeliveryError:
                raise
            except (aiosmtplib.SMTPException, OSError) as exc:
                raise self._classify(exc) from (
                    None if isinstance(exc, aiosmtplib.SMTPAuthenticationError) else exc
                )
        refused.update(cc_refused)
        return Delivery(
            provider_message_id=str(mime["Message-ID"]), accepted=accepted, refused=refused
        )

    async def _transaction(
        self, primary: str, cc: list[str], data: bytes
    ) -> tuple[tuple[str, ...], dict[str, str]]:
        smtp, reused = await self._connection()
        try:
            await smtp.mail(self._sender)
        except (aiosmtplib.SMTPServerDisconnected, ConnectionError) as exc:
            if not reused:
                raise
            log.info("SMTP connection to %s was closed (%s); reconnecting", self._where(), exc)
            smtp = await self._reconnect()
            await smtp.mail(self._sender)
        except aiosmtplib.SMTPSenderRefused as exc:
            if not (reused and exc.code == 421):  # 421: the server ended an idle session
                await self._reset(smtp)
                raise
            log.info("SMTP server %s closed the session (%s); reconnecting", self._where(), exc)
            smtp = await self._reconnect()
            await smtp.mail(self._sender)
        try:
            return await self._envelope_and_data(smtp, primary, cc, data)
        except aiosmtplib.SMTPResponseException:
            await self._reset(smtp)
            raise

    async def _envelope_and_data(
        self, smtp: aiosmtplib.SMTP, primary: str, cc: list[str], data: bytes
    ) -> tuple[tuple[str, ...], dict[str, str]]:
        """RCPT for the primary (refusal fails the message), then each CC, then DATA."""
        try:
            await smtp.rcpt(primary)
        except aiosmtplib.SMTPRecipientRefused as exc:
            await self._reset(smtp)
            # 5xx at RCPT: this address cannot receive mail; another channel may reach them.
            error = TransientError if 400 <= exc.code < 500 else FallbackError
            reason = self._scrub(f"recipient {primary} refused: {_reply(exc)}")
            raise error(reason, code=str(exc.code)) from exc
        accepted = [primary]
        refused: dict[str, str] = {}
        for addr in cc:
            try:
                await smtp.rcpt(addr)
            except aiosmtplib.SMTPRecipientRefused as exc:
                refused[addr] = self._scrub(_reply(exc))
            else:
                accepted.append(addr)
        await smtp.data(data)
        return tuple(accepted), refused

    # ------------------------------------------------------------------ the connection

    def _bound_lock(self) -> asyncio.Lock:
        """The send lock of the running loop; a connection from an earlier loop is abandoned."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._lock is None:
            self._drop()
            self._loop = loop
            self._lock = asyncio.Lock()
        return self._lock

    async def _connection(self) -> tuple[aiosmtplib.SMTP, bool]:
        """The open connection and True, or a new one and False."""
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp, True
        self._drop()
        return await self._reconnect(), False

    async def _reconnect(self) -> aiosmtplib.SMTP:
        self._drop()
        s = self.settings
        password = s.password.get_secret_value() if s.username and s.password else None
        smtp = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            use_tls=s.security == "tls",
            start_tls=s.security == "starttls",
            validate_certs=s.validate_certs,
            timeout=s.timeout,
            username=s.username or None,
            password=password,
        )
        log.debug("SMTP connecting to %s (security=%s)", self._where(), s.security)
        await smtp.connect()
        self._smtp = smtp
        self.connections_opened += 1
        return smtp

    async def _reset(self, smtp: aiosmtplib.SMTP) -> None:
        """End a failed transaction so the connection can carry the next message."""
        if not smtp.is_connected:
            return
        try:
            await smtp.rset()
        except (aiosmtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(RuntimeError):  # its event loop may be closed already
                smtp.close()

    async def aclose(self) -> None:
        """QUIT and close the kept connection (no-op when none is open)."""
        if self._smtp is None:
            return
        if self._loop is not asyncio.get_running_loop() or self._lock is None:
            self._drop()
            return
        async with self._lock:
            smtp = self._smtp
            if smtp is not None and smtp.is_connected:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                    async with asyncio.timeout(min(self.settings.timeout, 5.0)):
                        await smtp.quit()
            self._drop()

    # ------------------------------------------------------------------ errors

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def _scrub(self, text: str) -> str:
        """Remove the SMTP credentials from a text that is about to leave this module."""
        secrets = [self.settings.username or ""]
        if self.settings.password is not None:
            secrets.append(self.settings.password.get_secret_value())
        for secret in secrets:
            if len(secret) >= 3:
                text = text.replace(secret, "***")
        return text

    def _classify(self, exc: BaseException) -> DeliveryError:
        """Map an aiosmtplib/OS error to TransientError or PermanentError (see module doc)."""
        where = self._where()
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
                reason = f"SMTP authentication failed at {where}: {_reply(exc)}"
            else:
                reason = f"SMTP server {where} replied {_reply(exc)}"
            transient = 400 <= exc.code < 500
            error: type[DeliveryError] = TransientError if transient else PermanentError
            return error(self._scrub(reason), code=str(exc.code))
        self._drop()
        if _is_certificate_error(exc):
            return PermanentError(self._scrub(f"TLS certificate of {where} not trusted: {exc}"))
        if isinstance(exc, TimeoutError | aiosmtplib.SMTPTimeoutError):
            return TransientError(self._scrub(f"SMTP {where} timed out: {exc}"), code="timeout")
        if isinstance(exc, aiosmtplib.SMTPServerDisconnected | ConnectionError | OSError):
            return TransientError(self._scrub(f"SMTP connection to {where} failed: {exc}"),
                                  code="connection")
        # SMTPNotSupported and plain SMTPException: STARTTLS/AUTH not offered, bad options.
        return PermanentError(self._scrub(f"SMTP server {where}: {exc}"))


_SUBTYPES = {
    ".docx": "vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".json": "json",
    ".pdf": "pdf",
}


def _subtype(filename: str) -> str:
    return _SUBTYPES.get(filename[filename.rfind("."):].lower() if "." in filename else "",
                         "octet-stream")


def _is_certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
