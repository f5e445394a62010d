"""A fake Bedrock runtime, with the STS endpoint an assumed role asks.

Every call must carry a SigV4 signature that botocore's signer, given the secret of the key it names,
computes the same (or a Bedrock API key as a Bearer token); a key that STS issued must come with its
session token. POST / is STS's AssumeRole (signed the same way, for service `sts`): it issues a
temporary key. The models live at /model/{modelId}/{action}: Claude (`anthropic.claude` in the id) at
invoke / invoke-with-response-stream with Anthropic's Messages body (no `model` or `stream`, a known
`anthropic_version`), its stream's events base64 in `chunk` events; the others at converse /
converse-stream, refusing what Converse refuses; count-tokens counts an InvokeModel body; Titan and Cohere embedding models at invoke. Streams use AWS's event-stream framing. A model id
ending in `-400` fails with a ValidationException, in `-429` with a ThrottlingException; `-midstream`
breaks off its stream with a throttlingException message. Answers come from tests/fakes/conversation.py.
"""

from __future__ import annotations

import base64
import calendar
import hmac
import re
import secrets
import time
from typing import Any

import orjson
from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.fakes import conversation as talk
from tests.fakes.eventstream import event, exception

ACCESS_KEY = "AKIAFAKEGATEWAY00001"
SECRET_KEY = "fake/secret/key/for/the/gateway/0000000000"
API_KEY = "ABSKfakeBedrockApiKey0123456789"
VERSIONS = ("bedrock-2023-05-31", "2026-10-21")  # the long-standing one, and the SDK's newest
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<signature>[0-9a-f]{64})"
)
_EVENT_STREAM = "application/vnd.amazon.eventstream"


def _aws_error(status: int, kind: str, message: str) -> web.Response:
    return web.json_response(
        {"message": message},
        status=status,
        headers={"x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"},
    )


class FakeBedrock:
    """The fake's state: the keys it knows (and the session tokens of temporary ones), and every model call."""

    url = ""  # its base URL, once served on a loopback port

    def __init__(self) -> None:
        self.keys: dict[str, str] = {ACCESS_KEY: SECRET_KEY}
        self.session_tokens: dict[str, str] = {}
        self.assumed: list[str] = []  # the roles assumed, in order
        self.requests: list[dict[str, Any]] = []
        self.app = web.Application()
        self.app.router.add_post("/", self.sts)
        self.app.router.add_post("/model/{model}/{action}", self.model)

    def refusal(self, request: web.Request, body: bytes, service: str) -> str | None:
        """Why the call's authentication fails, or None: the signature botocore computes for it with the
        named key's secret, over the headers it says it signed, must be the one it carries."""
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return None if header.removeprefix("Bearer ") == API_KEY else "The API key is invalid."
        found = _AUTH.fullmatch(header)
        if found is None or found["service"] != service:
            return "Authorization header requires a SigV4 signature"
        key = found["key"]
        if key not in self.keys:
            return "The security token included in the request is invalid."
        token = self.session_tokens.get(key)
        if token is not None and request.headers.get("X-Amz-Security-Token") != token:
            return "The security token included in the request is invalid."
        stamp = request.headers.get("X-Amz-Date", "")
        if (
            not re.fullmatch(r"\d{8}T\d{6}Z", stamp)
            or abs(time.time() - calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))) > 300
        ):
            return "Signature expired"
        signed = found["signed"].split(";")
        if not {"host", "x-amz-date"} <= set(signed):
            return "host and x-amz-date must be signed"
        headers = {name: request.headers[name] for name in signed if name in request.headers}
        copy = AWSRequest(method=request.method, url=f"http://{request.host}{request.raw_path}", data=body, headers=headers)
        copy.context["timestamp"] = stamp
        signer = SigV4Auth(Credentials(key, self.keys[key], token), service, found["region"])
        expected = signer.signature(signer.string_to_sign(copy, signer.canonical_request(copy)), copy)
        if not hmac.compare_digest(expected, found["signature"]):
            return "The request signature we calculated does not match the signature you provided."
        return None

    async def sts(self, request: web.Request) -> web.Response:
        """STS AssumeRole: a temporary key, its secret and session token, for an hour."""
        body = await request.read()
        refused = self.refusal(request, body, "sts")
        if refused:
            return web.Response(
                status=403,
                text=f"<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>{refused}</Message></Error></ErrorResponse>",
            )
        form = dict(p.split("=", 1) for p in body.decode().split("&"))
        self.assumed.append(form.get("RoleArn", "").replace("%3A", ":").replace("%2F", "/"))
        key, secret, token = "ASIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30), secrets.token_urlsafe(40)
        self.keys[key], self.session_tokens[key] = secret, token
        expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        xml = (
            '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>'
            f"<AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>"
            f"<SessionToken>{token}</SessionToken><Expiration>{expiry}</Expiration></Credentials>"
            "<AssumedRoleUser><AssumedRoleId>AROAFAKE:anygate</AssumedRoleId>"
            "<Arn>arn:aws:sts::123456789012:assumed-role/bedrock/anygate</Arn></AssumedRoleUser>"
            "</AssumeRoleResult><ResponseMetadata><RequestId>fake-1</RequestId></ResponseMetadata></AssumeRoleResponse>"
        )
        return web.Response(text=xml, content_type="text/xml")

    async def model(self, request: web.Request) -> web.StreamResponse:
        """One model call: its signature checked, then answered as Claude's invoke or as Converse."""
        raw = await request.read()
        refused = self.refusal(request, raw, "bedrock")
        if refused:
            return _aws_error(403, "UnrecognizedClientException", refused)
        model, action = request.match_info["model"], request.match_info["action"]
        body = orjson.loads(raw)
        self.requests.append(
            {"path": request.raw_path, "model": model, "action": action, "headers": dict(request.headers), "body": body}
        )
        if model.endswith("-400"):
            return _aws_error(400, "ValidationException", "The model cannot take this request: 'temperature' is out of range.")
        if model.endswith("-429"):
            return _aws_error(429, "ThrottlingException", "Too many requests, please wait before trying again.")
        if action == "count-tokens":
            return self._count(model, body)
        if "embed" in model:
            return self._embed(model, action, body)
        if "anthropic.claude" in model:
            return await self._claude(request, model, action, body)
        return await self._converse(request, model, action, body)

    def _count(self, model: str, body: dict[str, Any]) -> web.Response:
        """CountTokens of an InvokeModel body, for a foundation model (not an inference profile)."""
        if model.split(".")[0] in ("us", "eu", "apac", "global"):
            return _aws_error(400, "ValidationException", "The provided model identifier is invalid.")
        try:
            counted = orjson.loads(base64.b64decode(body["input"]["invokeModel"]["body"]))
        except (KeyError, TypeError, ValueError):
            return _aws_error(400, "ValidationException", "Malformed input request: input.invokeModel.body")
        if counted.get("anthropic_version") not in VERSIONS or "max_tokens" not in counted or not counted.get("messages"):
            return _aws_error(400, "ValidationException", "the body to count is not an InvokeModel body of Claude")
        return web.json_response({"inputTokens": 42})

    def _embed(self, model: str, action: str, body: dict[str, Any]) -> web.Response:
        """Titan Embed (one text) and Cohere Embed (at most 96), through invoke."""
        if action != "invoke":
            return _aws_error(400, "ValidationException", "embedding models are invoked")
        if "titan-embed" in model:
            if set(body) - {"inputText", "dimensions", "normalize", "embeddingTypes"} or not body.get("inputText"):
                return _aws_error(400, "ValidationException", "Malformed input request: #: required key [inputText] not found")
            return web.json_response({"embedding": [0.125] * body.get("dimensions", 4), "inputTextTokenCount": 3})
        allowed = {"texts", "input_type", "truncate", "embedding_types", "images"} | (
            {"output_dimension"} if "embed-v4" in model else set()
        )
        if set(body) - allowed or not 0 < len(body.get("texts", [])) <= 96 or "input_type" not in body:
            return _aws_error(
                400, "ValidationException", "Malformed input request: texts must hold 1 to 96 texts, with input_type"
            )
        vectors = [[0.5] * body.get("output_dimension", 4) for _ in body["texts"]]
        if body.get("embedding_types"):
            return web.json_response(
                {"id": "emb-1", "embeddings": {"float": vectors}, "texts": body["texts"], "response_type": "embeddings_by_type"}
            )
        return web.json_response(
            {"id": "emb-1", "embeddings": vectors, "texts": body["texts"], "response_type": "embeddings_floats"}
        )

    async def _claude(self, request: web.Request, model: str, action: str, body: dict[str, Any]) -> web.StreamResponse:
        if action not in ("invoke", "invoke-with-response-stream"):
            return _aws_error(400, "ValidationException", f"{action} is not how this gateway calls Claude")
        if body.get("anthropic_version") not in VERSIONS or "model" in body or "stream" in body:
            return _aws_error(400, "ValidationException", "Malformed input request: #: extraneous key [model] is not permitted")
        problem = talk.claude_problem(body)
        if problem:
            return _aws_error(400, "ValidationException", problem)
        blocks = talk.claude_blocks("bedrock-claude", body)
        if action == "invoke":
            return web.json_response(talk.claude_message(model, blocks))
        chunks = [
            event("chunk", {"bytes": base64.b64encode(orjson.dumps(data)).decode()})
            for _, data in talk.claude_events(model, blocks)
        ]
        return await self._stream(request, model, chunks)

    async def _converse(self, request: web.Request, model: str, action: str, body: dict[str, Any]) -> web.StreamResponse:
        if action not in ("converse", "converse-stream"):
            return _aws_error(400, "ValidationException", f"{action} is not how this gateway calls {model}")
        problem = talk.converse_problem(body)
        if problem:
            return _aws_error(400, "ValidationException", problem)
        profile = "bedrock-nova" if "nova" in model else "bedrock-llama"
        blocks = talk.converse_blocks(profile, body, thinks="nova" in model)
        if action == "converse":
            return web.json_response(talk.converse_answer(blocks))
        return await self._stream(request, model, [event(kind, data) for kind, data in talk.converse_events(blocks)])

    async def _stream(self, request: web.Request, model: str, messages: list[bytes]) -> web.StreamResponse:
        if model.endswith("-midstream"):
            messages = messages[:2] + [exception("throttlingException", "Too many tokens, please wait before trying again.")]
        response = web.StreamResponse(headers={"Content-Type": _EVENT_STREAM})
        await response.prepare(request)
        blob = b"".join(messages)
        for cut in range(0, len(blob), 61):  # messages cut anywhere, as TCP may
            await response.write(blob[cut : cut + 61])
        return response
