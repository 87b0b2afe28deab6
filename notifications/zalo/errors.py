"""Zalo's error codes, and what the dispatcher should do about each.

Why a table: Zalo answers almost every failure with HTTP 200 and a negative `error`, and the
same number means different things on the ZNS and the OA API. Keeping the meaning in one
readable table (rather than `if` chains in the client) makes it easy to check against Zalo's
documentation and to add a code when the admin reports a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from notifications.base import (
    ChannelBroken,
    DeliveryError,
    FallbackError,
    PermanentError,
    TransientError,
)


class Outcome(Enum):
    TRANSIENT = "transient"  # retry later with backoff
    PERMANENT = "permanent"  # mark failed with the reason
    FALLBACK = "fallback"  # this channel cannot deliver this message to the person: next one
    BROKEN = "broken"  # the channel cannot send to anyone until an admin acts: next channel,
    #                    and the unit's admin is alerted
    REAUTH = "reauth"  # the access token was refused: refresh it and retry once


@dataclass(frozen=True)
class Rule:
    outcome: Outcome
    explanation: str


ZNS_ERRORS: dict[int, Rule] = {
    -100: Rule(Outcome.TRANSIENT, "Zalo asked to retry later"),
    -108: Rule(Outcome.FALLBACK, "phone number invalid"),
    -109: Rule(Outcome.FALLBACK, "ZNS template id invalid"),
    -111: Rule(Outcome.FALLBACK, "ZNS template data empty"),
    -112: Rule(Outcome.FALLBACK, "ZNS template data invalid"),
    -114: Rule(Outcome.FALLBACK, "the user cannot receive ZNS (account state or settings)"),
    -115: Rule(Outcome.BROKEN, "ZNS balance insufficient; the OA admin must top up"),
    -117: Rule(Outcome.FALLBACK, "template not approved or not granted to this OA/app"),
    -118: Rule(Outcome.FALLBACK, "no Zalo account for this phone number"),
    -119: Rule(Outcome.FALLBACK, "this Zalo account cannot receive ZNS"),
    -124: Rule(Outcome.REAUTH, "access token invalid"),
    -131: Rule(Outcome.TRANSIENT, "ZNS sending quota reached; retry later"),
    -133: Rule(Outcome.TRANSIENT, "outside the allowed ZNS sending time; retry later"),
    -139: Rule(Outcome.FALLBACK, "the user refused this kind of ZNS message"),
}

OA_ERRORS: dict[int, Rule] = {
    -32: Rule(Outcome.TRANSIENT, "rate limit exceeded; retry later"),
    -201: Rule(Outcome.FALLBACK, "request parameters invalid (message refused)"),
    -211: Rule(Outcome.TRANSIENT, "OA message quota exhausted; retry later"),
    -213: Rule(Outcome.FALLBACK, "user does not follow the OA; fall back to ZNS or email"),
    -216: Rule(Outcome.REAUTH, "access token invalid"),
    -217: Rule(Outcome.FALLBACK, "user blocks messages from the OA; fall back to ZNS or email"),
    -218: Rule(Outcome.FALLBACK, "message quota for this user reached; fall back to ZNS or email"),
    -220: Rule(Outcome.REAUTH, "access token expired"),
    -227: Rule(Outcome.FALLBACK, "user account banned or inactive; fall back to ZNS or email"),
    -230: Rule(
        Outcome.FALLBACK,
        "user has not interacted with the OA in the last 7 days; fall back to ZNS or email",
    ),
    -232: Rule(
        Outcome.FALLBACK,
        "no recent interaction / message quota for this user; fall back to ZNS or email",
    ),
    -234: Rule(
        Outcome.TRANSIENT,
        "the OA may not send this message between 22:00 and 06:00; retry in the morning",
    ),
}

REFRESH_TOKEN_INVALID = -14014


class AccessTokenRejected(TransientError):
    """Zalo refused the access token (-124, -216, -220).

    The channel catches this, refreshes the token and retries once; if it escapes (refused
    again right after a refresh) it is a `TransientError`, so the dispatcher tries later.
    """


def _error(api: str, code: int, message: str, table: dict[int, Rule]) -> DeliveryError:
    rule = table.get(code)
    if rule is None:
        return PermanentError(f"Zalo {api} error {code}: {message}", code=str(code))
    reason = f"Zalo {api} error {code} ({message}): {rule.explanation}"
    kinds: dict[Outcome, type[DeliveryError]] = {
        Outcome.TRANSIENT: TransientError,
        Outcome.PERMANENT: PermanentError,
        Outcome.FALLBACK: FallbackError,
        Outcome.BROKEN: ChannelBroken,
        Outcome.REAUTH: AccessTokenRejected,
    }
    return kinds[rule.outcome](reason, code=str(code))


def zns_error(code: int, message: str) -> DeliveryError:
    """The exception for a ZNS (`/message/template`) error code."""
    return _error("ZNS", code, message, ZNS_ERRORS)


def oa_error(code: int, message: str) -> DeliveryError:
    """The exception for an OA v3 (`/v3.0/oa/message/*`) error code."""
    return _error("OA", code, message, OA_ERRORS)


def refresh_error(code: int, name: str, description: str) -> PermanentError:
    """The exception for a refused token refresh: nothing retries it, an admin must act
    (`cchc zalo authorize`); meanwhile every message goes by the person's next channel."""
    if code == REFRESH_TOKEN_INVALID:
        return ChannelBroken(
            f"Zalo token refresh failed ({code} {name}): refresh token invalid; "
            "an admin must re-authorise the OA (cchc zalo authorize)",
            code=str(code),
        )
    detail = f"{name}: {description}" if description else name
    return ChannelBroken(f"Zalo token refresh refused ({code} {detail})", code=str(code))
