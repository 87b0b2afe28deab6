"""Zalo Official Account and ZNS: the HTTP contract, its error codes and the token stores.

The channel built on these is `notifications.channels.zalo.ZaloChannel`. `TokenStore` is the
interface; the database-backed store shared by every dispatcher is the engine's
`engine.reminders.zalo_tokens.SqlTokenStore` (notifications knows nothing of storage).
"""

from __future__ import annotations

from notifications.zalo.client import (
    InvalidPhoneError,
    IssuedTokens,
    OaResult,
    ZaloClient,
    ZnsResult,
    normalise_phone,
)
from notifications.zalo.errors import AccessTokenRejected, oa_error, refresh_error, zns_error
from notifications.zalo.tokens import MemoryTokenStore, TokenPair, TokenStore

__all__ = [
    "AccessTokenRejected",
    "InvalidPhoneError",
    "IssuedTokens",
    "MemoryTokenStore",
    "OaResult",
    "TokenPair",
    "TokenStore",
    "ZaloClient",
    "ZnsResult",
    "normalise_phone",
    "oa_error",
    "refresh_error",
    "zns_error",
]
