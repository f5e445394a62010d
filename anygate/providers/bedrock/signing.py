"""Authenticating Bedrock calls: SigV4 with botocore's signer and credential chain, or a Bedrock API
key as a Bearer header.

Credentials are resolved once, in a thread (the chain may read files or ask the instance's metadata
service; an assumed role asks STS), and looked at again at most once a minute, in a thread too,
so that botocore renews them before they expire; a call itself only signs (about 40 µs), with a signer
made once for each of those looks."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from anygate.core.errors import ErrorKind, GatewayError
from anygate.providers.bedrock.settings import BedrockSettings

SERVICE = "bedrock"
_RECHECK_SECONDS = 60.0


def region_of(settings: BedrockSettings) -> str:
    """The configured region, else the environment's, else the profile's, else us-east-1."""
    if settings.region:
        return settings.region
    from_env = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if from_env:
        return from_env
    import botocore.session

    return str(botocore.session.Session(profile=settings.aws_profile).get_config_variable("region") or "us-east-1")


class AwsSigner:
    """The authentication headers of one provider's calls."""

    def __init__(self, provider: str, settings: BedrockSettings) -> None:
        self._provider = provider
        self._settings = settings
        self.region = region_of(settings)
        self._bearer = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else None
        self._credentials: Any = None  # botocore's, resolved at the first call
        self._signer: Any = None  # botocore's SigV4Auth over their current values
        self._recheck_at = 0.0
        self._lock = asyncio.Lock()
        self._request: Any = None  # botocore's AWSRequest, imported with the credentials

    async def headers(self, url: str, body: bytes) -> dict[str, str]:
        """The headers that authenticate a POST of `body` (JSON) to `url`."""
        if self._bearer is not None:
            return self._bearer
        if time.monotonic() >= self._recheck_at:
            async with self._lock:
                if time.monotonic() >= self._recheck_at:
                    await asyncio.to_thread(self._refresh)
        request = self._request(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
        self._signer.add_auth(request)
        return {name: str(value) for name, value in request.headers.items() if name != "Content-Type"}

    def _refresh(self) -> None:
        """Resolve the credentials (the first time) and take their current values, renewed by botocore
        when they are about to expire."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.exceptions import BotoCoreError, ClientError

        self._request = AWSRequest
        try:
            if self._credentials is None:
                self._credentials = self._resolve()
            self._signer = SigV4Auth(self._credentials.get_frozen_credentials(), SERVICE, self.region)
        except (BotoCoreError, ClientError, OSError, ValueError) as exc:
            raise GatewayError(
                ErrorKind.UPSTREAM,
                f"upstream '{self._provider}': no AWS credentials ({type(exc).__name__}: {str(exc)[:200]})",
                code="upstream_auth_failed",
            ) from None
        self._recheck_at = time.monotonic() + _RECHECK_SECONDS

    def _resolve(self) -> Any:
        import botocore.session
        from botocore.credentials import AssumeRoleCredentialFetcher, Credentials, DeferredRefreshableCredentials

        settings = self._settings
        session = botocore.session.Session(profile=settings.aws_profile)
        if settings.aws_access_key_id:
            source = Credentials(settings.aws_access_key_id, settings.aws_secret_access_key, settings.aws_session_token)
        else:
            source = session.get_credentials()
            if source is None:
                raise ValueError("none found in the configuration, the environment, the shared files or the instance")
        if not settings.role_arn:
            return source
        region = self.region

        def sts_client(service: str, **given: Any) -> Any:  # STS of the provider's region
            return session.create_client(service, **{"region_name": region, **given})

        fetcher = AssumeRoleCredentialFetcher(
            client_creator=sts_client,
            source_credentials=source,
            role_arn=settings.role_arn,
            extra_args={"RoleSessionName": "anygate"},
        )
        return DeferredRefreshableCredentials(method="assume-role", refresh_using=fetcher.fetch_credentials)
