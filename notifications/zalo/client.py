"""The Zalo HTTP contract: ZNS template messages, OA v3 messages and the OA token refresh.

Why a thin client separate from the channel: it knows URLs, headers, bodies and how to read
Zalo's answers (HTTP 200 with a negative `error`), and nothing about tokens' storage or
fallbacks, so the contract can be tested request by request against the fake server. Every
failure leaves as a `DeliveryError` subclass whose text never contains a credential: tokens
and the app secret travel only in headers/form fields and are scrubbed from provider text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from notifications.base import ChannelBroken, PermanentError, TransientError, UnknownOutcome
from notifications.settings import ZaloSettings
from notifications.zalo.errors import oa_error, refresh_error, zns_error
from vntext.phones import PhoneError, normalize_phone

log = logging.getLogger(__name__)

ZNS_PATH = "/message/template"
OA_PATH = "/v3.0/oa/message/{kind}"
REFRESH_PATH = "/v4/oa/access_token"

OA_TEXT_LIMIT = 2000  # Zalo refuses longer OA text messages
DEFAULT_EXPIRES_IN = 3600  # used only if a successful refresh answer has no usable expires_in


class InvalidPhoneError(PermanentError, ValueError):
    """Not a Vietnamese mobile number; ZNS cannot be sent to it."""


def normalise_phone(raw: str) -> str:
    """The number as ZNS wants it (`84912345678`), by the one normaliser `vntext.phones`.

    A refused number becomes `InvalidPhoneError` (permanent: ZNS would bill and answer -108).
    """
    try:
        return normalize_phone(raw)
    except PhoneError as exc:
        raise InvalidPhoneError(f"not a valid number: {exc.en}", code="invalid_phone") from None


@dataclass(frozen=True)
class IssuedTokens:
    """A new token pair from a refresh; the tokens are kept out of the repr."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int


@dataclass(frozen=True)
class ZnsResult:
    msg_id: str
    sent_time: str = ""
    daily_quota: int | None = None
    remaining_quota: int | None = None


@dataclass(frozen=True)
class OaResult:
    message_id: str
    user_id: str = ""


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _scrub(text: str, secrets: tuple[str | None, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class ZaloClient:
    """Calls the three Zalo endpoints. Owns no connection: `http` is the caller's."""

    def __init__(self, settings: ZaloSettings, http: httpx.AsyncClient) -> None:
        self._settings = settings
        self._http = http
        self._timeout = httpx.Timeout(settings.timeout)

    def _secrets(self, *extra: str | None) -> tuple[str | None, ...]:
        s = self._settings
        known = (
            s.secret_key.get_secret_value() if s.secret_key else None,
            s.access_token.get_secret_value() if s.access_token else None,
            s.refresh_token.get_secret_value() if s.refresh_token else None,
        )
        return (*known, *extra)

    async def _post(
        self,
        url: str,
        what: str,
        *,
        headers: dict[str, str],
        json: Any = None,
        data: dict[str, str] | None = None,
        delivers: bool = False,
    ) -> tuple[int, Any]:
        """POST and return (status, decoded JSON or None); transport trouble is transient.

        `delivers`: the request sends a message. A timeout after the request went out
        (reading the answer) then means the message may have been delivered: `UnknownOutcome`
        (Zalo has no idempotency key; repeating it could send it twice). A timeout before
        (connecting, waiting for a pooled connection) is transient: nothing went out.
        """
        try:
            response = await self._http.post(
                url, headers=headers, json=json, data=data, timeout=self._timeout
            )
        except httpx.ReadTimeout as exc:
            if not delivers:
                raise TransientError(
                    f"Zalo {what}: no answer after {self._settings.timeout:g}s "
                    f"({type(exc).__name__})", code="timeout") from None
            raise UnknownOutcome(
                f"Zalo {what}: the request was sent but no answer came within "
                f"{self._settings.timeout:g}s; it may have been delivered",
                code="unknown_outcome") from None
        except httpx.TimeoutException as exc:
            raise TransientError(
                f"Zalo {what}: timed out after {self._settings.timeout:g}s ({type(exc).__name__})",
                code="timeout",
            ) from None
        except httpx.HTTPError as exc:
            raise TransientError(
                f"Zalo {what}: cannot reach {httpx.URL(url).host} ({type(exc).__name__})",
                code="connection",
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        return response.status_code, body

    @staticmethod
    def _check_http(status: int, body: Any, what: str) -> dict[str, Any]:
        """Reject answers that are not a Zalo JSON object; 5xx and 429 are transient."""
        if status >= 500 or status == 429:
            raise TransientError(f"Zalo {what}: HTTP {status}", code=f"http_{status}")
        if not isinstance(body, dict):
            if status == 200:
                raise TransientError(f"Zalo {what}: unexpected non-JSON answer", code="bad_answer")
            raise PermanentError(f"Zalo {what}: HTTP {status}", code=f"http_{status}")
        return body

    async def send_zns(
        self,
        access_token: str,
        *,
        phone: str,
        template_id: str,
        template_data: Mapping[str, str],
        tracking_id: str,
    ) -> ZnsResult:
        """Send one ZNS template message to a phone (normalised here)."""
        payload = {
            "phone": normalise_phone(phone),
            "template_id": template_id,
            "template_data": dict(template_data),
            "tracking_id": tracking_id,
        }
        url = self._settings.zns_api_base.rstrip("/") + ZNS_PATH
        status, body = await self._post(
            url, "ZNS", headers={"access_token": access_token}, json=payload, delivers=True
        )
        answer = self._check_http(status, body, "ZNS")
        code = _as_int(answer.get("error", 0))
        if code != 0:
            message = _scrub(str(answer.get("message", "")), self._secrets(access_token))
            raise zns_error(code if code is not None else -1, message)
        if status != 200:
            raise PermanentError(f"Zalo ZNS: HTTP {status}", code=f"http_{status}")
        data = answer.get("data") or {}
        quota = data.get("quota") or {}
        result = ZnsResult(
            msg_id=str(data.get("msg_id") or ""),
            sent_time=str(data.get("sent_time") or ""),
            daily_quota=_as_int(quota.get("dailyQuota")),
            remaining_quota=_as_int(quota.get("remainingQuota")),
        )
        log.info(
            "ZNS sent: tracking_id=%s msg_id=%s remaining_quota=%s",
            tracking_id, result.msg_id, result.remaining_quota,
        )
        return result

    async def send_oa_text(self, access_token: str, *, user_id: str, text: str) -> OaResult:
        """A consultation message (`/message/cs`, plain text ≤ 2000 characters): Zalo accepts
        it only within the user's interaction window (else -230/-232, a fallback)."""
        if len(text) > OA_TEXT_LIMIT:
            text = text[: OA_TEXT_LIMIT - 1] + "…"
        payload = {"recipient": {"user_id": user_id}, "message": {"text": text}}
        return await self._send_oa("cs", access_token, payload)

    async def send_oa_transaction(
        self, access_token: str, *, user_id: str, template: Mapping[str, Any]
    ) -> OaResult:
        """A transaction message (`/message/transaction`): a template attachment
        (`notifications.render.oa_transaction_payload`), allowed outside the window."""
        payload = {
            "recipient": {"user_id": user_id},
            "message": {"attachment": {"type": "template", "payload": dict(template)}},
        }
        return await self._send_oa("transaction", access_token, payload)

    async def _send_oa(
        self, kind: Literal["cs", "transaction"], access_token: str, payload: dict[str, Any]
    ) -> OaResult:
        url = self._settings.api_base.rstrip("/") + OA_PATH.format(kind=kind)
        status, body = await self._post(
            url, "OA", headers={"access_token": access_token}, json=payload, delivers=True
        )
        answer = self._check_http(status, body, "OA")
        code = _as_int(answer.get("error", 0))
        if code != 0:
            message = _scrub(str(answer.get("message", "")), self._secrets(access_token))
            raise oa_error(code if code is not None else -1, message)
        if status != 200:
            raise PermanentError(f"Zalo OA: HTTP {status}", code=f"http_{status}")
        data = answer.get("data") or {}
        result = OaResult(
            message_id=str(data.get("message_id") or ""), user_id=str(data.get("user_id") or "")
        )
        log.info("OA %s message sent: message_id=%s", kind, result.message_id)
        return result

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        """Exchange the (single-use) refresh token for a new pair.

        The caller must store the answer before using it: once Zalo has answered, the old
        refresh token is spent. A timeout here is transient, but Zalo may have spent the token
        anyway; the next attempt then gets -14014 and an admin must re-authorise the OA.
        """
        if not refresh_token:
            raise ChannelBroken(
                "Zalo token refresh: no refresh token; an admin must authorise the OA "
                "(cchc zalo authorize)",
                code="no_refresh_token",
            )
        return await self._token_request(
            "token refresh", {"refresh_token": refresh_token, "grant_type": "refresh_token"},
            refresh_token)

    async def exchange_code(self, code: str, code_verifier: str | None = None) -> IssuedTokens:
        """OAuth v4: exchange the authorisation code an OA admin obtained (permission page,
        `code` in the callback) for the OA's first token pair (PKCE `code_verifier` if used)."""
        form = {"code": code, "grant_type": "authorization_code"}
        if code_verifier:
            form["code_verifier"] = code_verifier
        return await self._token_request("authorization code exchange", form, code)

    async def _token_request(self, what: str, form: dict[str, str], spent: str) -> IssuedTokens:
        s = self._settings
        if not (s.app_id and s.secret_key):
            raise ChannelBroken(
                f"Zalo {what}: app id or secret key not configured (CCHC_ZALO_APP_ID, "
                "CCHC_ZALO_SECRET_KEY)", code="not_configured"
            )
        url = s.oauth_base.rstrip("/") + REFRESH_PATH
        status, body = await self._post(
            url,
            what,
            headers={"secret_key": s.secret_key.get_secret_value()},
            data={**form, "app_id": s.app_id},
        )
        refresh_token = spent
        answer = self._check_http(status, body, what)
        code = _as_int(answer.get("error", 0))
        access = answer.get("access_token")
        new_refresh = answer.get("refresh_token")
        if code or not (isinstance(access, str) and access and isinstance(new_refresh, str)
                        and new_refresh):
            secrets = self._secrets(refresh_token)
            raise refresh_error(
                code or -1,
                _scrub(str(answer.get("error_name", "no token in answer")), secrets),
                _scrub(str(answer.get("error_description", "")), secrets),
            )
        expires_in = _as_int(answer.get("expires_in"))
        if expires_in is None or expires_in <= 0:
            # Never raise here: the old refresh token is already spent, the new pair must be kept.
            log.warning(
                "Zalo token refresh: no usable expires_in, assuming %ss", DEFAULT_EXPIRES_IN
            )
            expires_in = DEFAULT_EXPIRES_IN
        return IssuedTokens(access_token=access, refresh_token=new_refresh, expires_in=expires_in)


__all__ = [
    "OA_PATH",
    "REFRESH_PATH",
    "ZNS_PATH",
    "InvalidPhoneError",
    "IssuedTokens",
    "OaResult",
    "ZaloClient",
    "ZnsResult",
    "normalise_phone",
]
