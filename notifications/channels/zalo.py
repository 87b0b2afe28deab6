"""Zalo: an OA message to a follower, else a ZNS template message to the person's phone.

Why this order: OA messages are free but only reach people who follow the OA; ZNS reaches any
Zalo account by phone number but costs money and needs an approved template. When neither can
reach the person the channel raises `FallbackError` and the dispatcher tries e-mail. A refused
access token is refreshed (once across all dispatchers, see `notifications.zalo.tokens`) and
the call retried once; a refresh Zalo refuses (-14014) is `ChannelBroken`: every message goes
by the person's next channel and the unit's admin is alerted until `cchc zalo authorize`.

OA message kinds: a reminder is a *transaction* message (`/message/transaction`, the template
attachment of `Message.oa_payload` with a button to the item), which Zalo delivers outside the
user's interaction window. With `CCHC_ZALO_OA_MESSAGE_KIND=cs` the plain-text consultation
message is tried first, and when Zalo says the user is outside the window (-230/-232) the
transaction message is sent instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import ClassVar, TypeVar

import httpx

from notifications.base import (
    Channel,
    ChannelBroken,
    Delivery,
    FallbackError,
    Message,
    PermanentError,
    Recipient,
    TransientError,
)
from notifications.settings import ZaloSettings
from notifications.zalo.client import InvalidPhoneError, ZaloClient, normalise_phone
from notifications.zalo.errors import AccessTokenRejected
from notifications.zalo.tokens import TokenStore

log = logging.getLogger(__name__)

#: OA errors meaning "outside the user's interaction window" (a cs message is not allowed).
OUTSIDE_WINDOW = frozenset({"-230", "-232"})

T = TypeVar("T")


class ZaloChannel(Channel):
    """OA message by `zalo_user_id`, ZNS by `phone`; `FallbackError` when neither reaches.

    `http` may be shared with other code; the channel closes only a client it created.
    Request timeouts always come from `settings.timeout`.
    """

    name: ClassVar[str] = "zalo"
    concurrency = 4  # requests in flight at once (httpx pool)

    def __init__(
        self,
        settings: ZaloSettings,
        store: TokenStore,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(settings.timeout))
        self.client = ZaloClient(settings, self._http)

    def can_reach(self, recipient: Recipient) -> bool:
        return bool(recipient.zalo_user_id or recipient.phone)

    async def send(self, message: Message) -> Delivery:
        recipient = message.recipient
        if recipient.zalo_user_id:
            try:
                return await self._send_oa(message, recipient.zalo_user_id)
            except ChannelBroken:
                raise
            except FallbackError as oa_exc:
                if not (recipient.phone and self._settings.zns_template_id):
                    raise
                log.info(
                    "OA cannot reach the recipient of %s (%s); trying ZNS",
                    message.tracking_id, oa_exc.code,
                )
                try:
                    return await self._send_zns(message, recipient.phone)
                except (TransientError, ChannelBroken):
                    raise
                except PermanentError as zns_exc:
                    # Neither OA nor ZNS can deliver: let the dispatcher try e-mail.
                    raise FallbackError(
                        f"{oa_exc.reason}; ZNS fallback: {zns_exc.reason}", code=zns_exc.code
                    ) from None
        if recipient.phone:
            return await self._send_zns(message, recipient.phone)
        raise FallbackError("recipient has no Zalo user id and no phone number", code="no_address")

    async def _send_oa(self, message: Message, user_id: str) -> Delivery:
        if self._settings.oa_message_kind == "cs":
            try:
                result = await self._authorised(
                    lambda token: self.client.send_oa_text(token, user_id=user_id,
                                                           text=message.text))
                return Delivery(provider_message_id=result.message_id,
                                accepted=(f"oa:{user_id}",))
            except FallbackError as exc:
                if exc.code not in OUTSIDE_WINDOW:
                    raise
                log.info("OA cs refused for %s (outside the interaction window); sending a "
                         "transaction message", message.tracking_id)
        if not message.oa_payload:
            raise FallbackError("no OA transaction template in the message", code="no_template")
        result = await self._authorised(
            lambda token: self.client.send_oa_transaction(token, user_id=user_id,
                                                          template=message.oa_payload))
        return Delivery(provider_message_id=result.message_id, accepted=(f"oa:{user_id}",))

    async def _send_zns(self, message: Message, phone: str) -> Delivery:
        template_id = self._settings.zns_template_id
        if not template_id:
            raise FallbackError(
                "ZNS template id not configured (CCHC_ZALO_ZNS_TEMPLATE_ID)", code="no_template"
            )
        try:
            number = normalise_phone(phone)
        except InvalidPhoneError as exc:
            # Zalo cannot reach a malformed number; another channel still might.
            raise FallbackError(exc.reason, code=exc.code) from None
        result = await self._authorised(
            lambda token: self.client.send_zns(
                token,
                phone=number,
                template_id=template_id,
                template_data=message.template_data,
                tracking_id=message.tracking_id,
            )
        )
        return Delivery(provider_message_id=result.msg_id, accepted=(f"zns:{number}",))

    async def _authorised(self, call: Callable[[str], Awaitable[T]]) -> T:
        """Run `call` with the access token; if Zalo refuses it, refresh and retry once."""
        token = await self._store.access_token(self.client.refresh)
        try:
            return await call(token)
        except AccessTokenRejected:
            pair = await self._store.refresh(token, self.client.refresh)
        try:
            return await call(pair.access_token)
        except AccessTokenRejected as exc:
            raise TransientError(
                f"{exc.reason} (again, right after a token refresh)", code=exc.code
            ) from None

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
