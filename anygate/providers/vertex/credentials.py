"""OAuth access tokens for Google Cloud, from a service account's key file or Application Default
Credentials (google-auth does the signing and the exchange). A token is fetched once and kept; it is
renewed in a thread five minutes before it runs out, so a call only reads the header it holds."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC
from typing import Any

from anygate.core.errors import ErrorKind, GatewayError

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
_RENEW_BEFORE_SECONDS = 300


class GoogleToken:
    """The `Authorization` header of one set of Google credentials."""

    def __init__(self, provider: str, credentials_file: str | None) -> None:
        self._provider = provider
        self._file = credentials_file
        self._credentials: Any = None  # loaded at the first call (google-auth is imported then too)
        self._header: dict[str, str] = {}
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def header(self) -> dict[str, str]:
        """The header to send; fetched (or renewed) first when it is missing or about to run out."""
        if time.time() < self._renew_at:
            return self._header
        async with self._lock:
            if time.time() >= self._renew_at:
                await asyncio.to_thread(self._fetch)
        return self._header

    def _fetch(self) -> None:
        """A new token, in a worker thread (google-auth's exchange is blocking)."""
        try:
            import google.auth
            import google.auth.transport.requests
            from google.auth.exceptions import GoogleAuthError
            from google.oauth2 import service_account
        except ImportError:  # pragma: no cover - a dependency of the package
            raise GatewayError(ErrorKind.UPSTREAM, "google-auth is not installed", code="upstream_auth_failed") from None
        try:
            if self._credentials is None:
                if self._file:
                    self._credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                        self._file, scopes=[SCOPE]
                    )
                else:
                    self._credentials, _ = google.auth.default(scopes=[SCOPE])
            self._credentials.refresh(google.auth.transport.requests.Request())
        except (GoogleAuthError, OSError, ValueError) as exc:
            raise GatewayError(
                ErrorKind.UPSTREAM,
                f"upstream '{self._provider}': no Google Cloud access token ({type(exc).__name__}: {str(exc)[:200]})",
                code="upstream_auth_failed",
            ) from None
        expiry = self._credentials.expiry  # a naive datetime in UTC
        lifetime = expiry.replace(tzinfo=UTC).timestamp() - time.time() if expiry is not None else 3600.0
        self._header = {"Authorization": f"Bearer {self._credentials.token}"}
        self._renew_at = time.time() + max(lifetime - _RENEW_BEFORE_SECONDS, 0.0)
