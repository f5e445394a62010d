"""A fake Vertex AI, with the OAuth token endpoint a service account's key names (`token_uri`).

POST /token takes the service account's signed JWT (RFC 7523), checks its signature against the
account's public key, its audience, issuer and scope, and issues an access token. The models live at
/v1/projects/{project}/locations/{location}/publishers/{google|anthropic}/models/{model}:{method}
and answer only with an issued token: Claude at rawPredict / streamRawPredict (its body without
`model` and with a known `anthropic_version`; count-tokens:rawPredict counts), Gemini at
generateContent / streamGenerateContent?alt=sse (every content with a role), countTokens and predict
(embeddings). Models ending in `-400` fail as the publisher's API fails. Answers come from
tests/fakes/conversation.py.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

from tests.fakes import conversation as talk

PROJECT = "acme-prod"
CLIENT_EMAIL = "gateway@acme-prod.iam.gserviceaccount.com"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
VERSIONS = ("vertex-2023-10-16", "2026-10-21")  # Claude on Vertex: the long-standing one, and the SDK's newest
AUDIENCE = "https://oauth2.googleapis.com/token"  # what a service account's JWT is addressed to, wherever it is posted


def _google_error(status: int, message: str, kind: str) -> web.Response:
    return web.json_response({"error": {"code": status, "message": message, "status": kind}}, status=status)


class FakeVertex:
    """The fake's state: the tokens it issued and every model call it received, by publisher."""

    url = ""  # its base URL, once served on a loopback port

    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = self._key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self._public_pem = public.decode()
        self.tokens: dict[str, float] = {}  # issued token -> when it runs out
        self.token_requests = 0
        self.expires_in = 3599  # the lifetime of the tokens it issues, in seconds
        self.requests: dict[str, list[dict[str, Any]]] = {"google": [], "anthropic": []}
        self.app = web.Application()
        self.app.router.add_post("/token", self.token)
        for version in ("v1", "v1beta1"):  # google-genai's Vertex client uses the second
            self.app.router.add_post(
                f"/{version}/projects/{{project}}/locations/{{location}}/publishers/{{publisher}}/models/{{call}}", self.model
            )

    def key_file(self, folder: Path) -> Path:
        """A service account's JSON key whose token_uri is this fake's endpoint."""
        pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        key = {
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "k1",
            "private_key": pem,
            "client_email": CLIENT_EMAIL,
            "client_id": "1234567890",
            "token_uri": f"{self.url}/token",
        }
        path = folder / "service-account.json"
        path.write_text(json.dumps(key))
        return path

    async def token(self, request: web.Request) -> web.Response:
        """Exchange a signed JWT for an access token, as Google's OAuth endpoint does."""
        form = await request.post()
        self.token_requests += 1
        if form.get("grant_type") != JWT_BEARER:
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        try:
            claims = jwt.decode(str(form.get("assertion")), certs=self._public_pem, audience=AUDIENCE)  # type: ignore[no-untyped-call]
        except ValueError as exc:
            return web.json_response({"error": "invalid_grant", "error_description": str(exc)}, status=400)
        if claims.get("iss") != CLIENT_EMAIL or "cloud-platform" not in str(claims.get("scope")):
            return web.json_response({"error": "invalid_scope"}, status=400)
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        self.tokens[token] = time.time() + self.expires_in
        return web.json_response({"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"})

    async def model(self, request: web.Request) -> web.StreamResponse:
        """One model call: checked for its token and project, then answered by its publisher's rules."""
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.tokens.get(bearer, 0) < time.time():
            return _google_error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
        info = request.match_info
        if info["project"] != PROJECT:
            return _google_error(403, f"Permission denied on resource project {info['project']}.", "PERMISSION_DENIED")
        model, _, method = info["call"].partition(":")
        body = orjson.loads(await request.read())
        publisher = info["publisher"]
        self.requests.setdefault(publisher, []).append(
            {"path": request.path, "query": dict(request.query), "headers": dict(request.headers), "body": body}
        )
        if publisher == "anthropic":
            return await self._claude(request, model, method, body)
        return await self._gemini(request, model, method, body)

    async def _claude(self, request: web.Request, model: str, method: str, body: dict[str, Any]) -> web.StreamResponse:
        if body.get("anthropic_version") not in VERSIONS or "model" in body and model != "count-tokens":
            error = {
                "type": "invalid_request_error",
                "message": "anthropic_version: must be vertex-2023-10-16; model: Extra inputs are not permitted",
            }
            return web.json_response({"type": "error", "error": error}, status=400)
        if model == "count-tokens":
            return web.json_response({"input_tokens": 42})
        problem = talk.claude_problem(body) or (
            "The model cannot take this request: 'temperature' is out of range." if model.endswith("-400") else None
        )
        if problem:
            return web.json_response(
                {"type": "error", "error": {"type": "invalid_request_error", "message": problem}}, status=400
            )
        if (method == "streamRawPredict") != (body.get("stream") is True):
            error = {"type": "invalid_request_error", "message": "stream must match the method"}
            return web.json_response({"type": "error", "error": error}, status=400)
        blocks = talk.claude_blocks("vertex-claude", body)
        if method == "rawPredict":
            return web.json_response(talk.claude_message(model, blocks))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for name, data in talk.claude_events(model, blocks):
            await response.write(b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n")
        return response

    async def _gemini(self, request: web.Request, model: str, method: str, body: dict[str, Any]) -> web.StreamResponse:
        if method == "countTokens":
            return web.json_response({"totalTokens": 77})
        if method == "predict":
            size = (body.get("parameters") or {}).get("outputDimensionality", 4)
            predictions = [
                {"embeddings": {"values": [0.25] * size, "statistics": {"token_count": 3, "truncated": False}}}
                for _ in body["instances"]
            ]
            return web.json_response({"predictions": predictions})
        problem = talk.gemini_problem(body) or (
            "* GenerationConfig.temperature: 'temperature' is out of range" if model.endswith("-400") else None
        )
        if problem:
            return _google_error(400, problem, "INVALID_ARGUMENT")
        parts = talk.gemini_parts("vertex-gemini", body)
        if method == "generateContent":
            return web.json_response(talk.gemini_whole(model, parts))
        if request.query.get("alt") != "sse":
            return _google_error(400, "the gateway asks for SSE", "INVALID_ARGUMENT")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for chunk in talk.gemini_chunks(model, parts):
            await response.write(b"data: " + orjson.dumps(chunk) + b"\r\n\r\n")
        return response
