"""Where the OA's token pair lives, and the one safe way to refresh it.

Why this shape: Zalo's refresh token is single-use. If two dispatchers refresh with the same
refresh token, the second gets -14014 and the OA is locked out until an admin re-authorises
it. So every store refreshes the same way (`TokenStore.refresh`): take an exclusive lock that
all dispatchers share, re-read the pair, and if someone else already replaced the token that
failed, use theirs; otherwise call Zalo, store the new pair, release the lock, and only then
use it. Subclasses supply just the lock and the storage (memory here, SQL in the engine's
`engine.reminders.zalo_tokens`).

The lock and the storage are synchronous (a database row lock is), so the locked part runs in
a worker thread while the event loop stays free to perform the HTTP refresh for it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from notifications.base import ChannelBroken, Clock, PermanentError, utc_now
from notifications.settings import ZaloSettings
from notifications.zalo.client import IssuedTokens

log = logging.getLogger(__name__)

Refresher = Callable[[str], Coroutine[Any, Any, IssuedTokens]]
"""Exchanges a refresh token for a new pair (normally `ZaloClient.refresh`)."""


ACCESS_TOKEN_LIFETIME = timedelta(seconds=90000)
"""Zalo's access-token lifetime; assumed for a token seeded from settings (age unknown: if it
is older, Zalo refuses it and the reactive refresh takes over)."""


@dataclass(frozen=True)
class TokenPair:
    """The OA's current tokens; the tokens themselves never show in a repr."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    version: int = 1


class LockedTokens(ABC):
    """The stored pair while the store's exclusive lock is held."""

    @abstractmethod
    def read(self) -> TokenPair | None: ...

    @abstractmethod
    def write(self, pair: TokenPair) -> None: ...


class TokenStore(ABC):
    """The OA token pair shared by every dispatcher that uses the same backing store."""

    def __init__(
        self,
        settings: ZaloSettings,
        *,
        clock: Clock = utc_now,
        margin: timedelta = timedelta(seconds=60),
    ) -> None:
        self.oa_id = settings.oa_id
        self._settings = settings
        self._clock = clock
        self._margin = margin
        self._cached: TokenPair | None = None
        # Serialises refreshes inside this process before they queue on the shared lock.
        self._process_lock = threading.Lock()

    # -- what a backing store provides ---------------------------------------------------

    @abstractmethod
    def _load(self) -> TokenPair | None:
        """The stored pair, read without any lock (None when never stored)."""

    @abstractmethod
    def _insert_if_absent(self, pair: TokenPair) -> None:
        """Store `pair` unless a pair exists already (two seeders may race: one wins)."""

    @abstractmethod
    def _exclusive(self) -> AbstractContextManager[LockedTokens]:
        """Hold the lock every dispatcher of this OA shares; commit the write on exit."""

    # -- the shared algorithm -------------------------------------------------------------

    def expired(self, pair: TokenPair) -> bool:
        """Whether the access token is expired or about to (within the safety margin)."""
        return self._clock() >= pair.expires_at - self._margin

    def seed_pair(self) -> TokenPair:
        """The first pair, from settings (CCHC_ZALO_ACCESS_TOKEN / CCHC_ZALO_REFRESH_TOKEN)."""
        s = self._settings
        if not (s.access_token or s.refresh_token):
            raise ChannelBroken(
                "Zalo OA tokens not configured (CCHC_ZALO_ACCESS_TOKEN / "
                "CCHC_ZALO_REFRESH_TOKEN); an admin must authorise the OA (cchc zalo authorize)",
                code="not_configured",
            )
        now = self._clock()
        access = s.access_token.get_secret_value() if s.access_token else ""
        return TokenPair(
            access_token=access,
            refresh_token=s.refresh_token.get_secret_value() if s.refresh_token else "",
            # No access token: expired now, so the first use refreshes.
            expires_at=now + ACCESS_TOKEN_LIFETIME if access else now,
        )

    def current(self) -> TokenPair | None:
        """The stored pair as it is (None when none is stored); nothing is seeded."""
        return self._load()

    def load(self) -> TokenPair:
        """The stored pair, seeding it from settings on first use."""
        pair = self._load()
        if pair is None:
            self._insert_if_absent(self.seed_pair())
            pair = self._load()
            if pair is None:  # pragma: no cover - the insert just happened
                raise PermanentError("Zalo token store: seeded pair not found", code="store")
        return pair

    def replace(self, access_token: str, refresh_token: str, expires_in: int) -> TokenPair:
        """Store a pair an admin obtained by re-authorising the OA (no settings needed)."""
        expires_at = self._clock() + timedelta(seconds=expires_in)
        if self._load() is None:
            self._insert_if_absent(TokenPair(access_token, refresh_token, expires_at, version=0))
        with self._process_lock, self._exclusive() as locked:
            current = locked.read()
            pair = TokenPair(
                access_token=access_token,
                refresh_token=refresh_token,
                expires_at=expires_at,
                version=(current.version if current else 0) + 1,
            )
            locked.write(pair)
        self._cached = pair
        return pair

    async def access_token(self, refresher: Refresher) -> str:
        """A token to use now; refreshes it first when it is expired."""
        pair = self._cached
        if pair is None or self.expired(pair):
            pair = await asyncio.to_thread(self.load)
        if self.expired(pair):
            pair = await self.refresh(pair.access_token, refresher)
        self._cached = pair
        return pair.access_token

    async def refresh(self, failed_access_token: str, refresher: Refresher) -> TokenPair:
        """Replace `failed_access_token` (refused or expired), once across all dispatchers.

        Returns the pair to use: the one another dispatcher stored meanwhile, or a new one
        from Zalo that is already stored when this returns.
        """
        loop = asyncio.get_running_loop()

        def call(refresh_token: str) -> IssuedTokens:
            # Runs in the worker thread; the HTTP call itself runs on the (free) event loop.
            return asyncio.run_coroutine_threadsafe(refresher(refresh_token), loop).result()

        pair = await asyncio.to_thread(self._refresh_locked, failed_access_token, call)
        self._cached = pair
        return pair

    def _refresh_locked(
        self, failed_access_token: str, call: Callable[[str], IssuedTokens]
    ) -> TokenPair:
        self.load()
        obtained = False
        try:
            with self._process_lock, self._exclusive() as locked:
                current = locked.read()
                if current is None:  # pragma: no cover - load() seeded it
                    raise PermanentError("Zalo token store: no token pair", code="store")
                if current.access_token != failed_access_token and not self.expired(current):
                    return current  # another dispatcher refreshed while we waited for the lock
                issued = call(current.refresh_token)
                obtained = True
                pair = TokenPair(
                    access_token=issued.access_token,
                    refresh_token=issued.refresh_token,
                    expires_at=self._clock() + timedelta(seconds=issued.expires_in),
                    version=current.version + 1,
                )
                locked.write(pair)
        except BaseException:
            if obtained:
                log.error(
                    "Zalo OA %s: new token pair obtained but not stored; the old refresh "
                    "token is spent, an admin may have to re-authorise the OA", self.oa_id
                )
            raise
        log.info(
            "Zalo OA %s: token refreshed (version %s, expires %s)",
            self.oa_id, pair.version, pair.expires_at.isoformat(),
        )
        return pair


class _MemoryLocked(LockedTokens):
    def __init__(self, store: MemoryTokenStore) -> None:
        self._store = store

    def read(self) -> TokenPair | None:
        return self._store._pair

    def write(self, pair: TokenPair) -> None:
        self._store._pair = pair


class MemoryTokenStore(TokenStore):
    """Tokens in this process only: for tests and a single dispatcher without a database."""

    def __init__(
        self,
        settings: ZaloSettings,
        *,
        clock: Clock = utc_now,
        margin: timedelta = timedelta(seconds=60),
        pair: TokenPair | None = None,
    ) -> None:
        super().__init__(settings, clock=clock, margin=margin)
        self._pair = pair
        self._lock = threading.Lock()

    def _load(self) -> TokenPair | None:
        return self._pair

    def _insert_if_absent(self, pair: TokenPair) -> None:
        with self._lock:
            if self._pair is None:
                self._pair = pair

    @contextmanager
    def _exclusive(self) -> Iterator[LockedTokens]:
        with self._lock:
            yield _MemoryLocked(self)
