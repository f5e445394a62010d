"""OpenAI embeddings requests as Bedrock's embedding models take them through InvokeModel: Amazon Titan
(one text a call: `inputText`, `dimensions`; its answer counts the tokens) and Cohere Embed (up to 96
texts a call: `texts`, `input_type`; v4 also `output_dimension`)."""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.errors import ErrorKind, GatewayError, invalid_request

COHERE_BATCH = 96  # the most texts one Cohere call takes


def family_of(model: str) -> str:
    """`titan` or `cohere` for an embedding model id (or inference profile); a 400 otherwise."""
    if "titan-embed" in model:
        return "titan"
    if "cohere.embed" in model:
        return "cohere"
    raise invalid_request(f"'{model}' is not an embedding model of Bedrock (Titan Embed or Cohere Embed)", "model")


def titan_body(text: str, dimensions: int | None) -> dict[str, Any]:
    """One Titan call's body."""
    return {"inputText": text, **({"dimensions": dimensions} if dimensions else {})}


def cohere_body(texts: list[str], dimensions: int | None, model: str) -> dict[str, Any]:
    """One Cohere call's body (documents to search, as OpenAI's embeddings are usually for)."""
    body: dict[str, Any] = {"texts": texts, "input_type": "search_document", "embedding_types": ["float"]}
    if dimensions and "embed-v4" in model:
        body["output_dimension"] = dimensions
    return body


def _bad(provider: str) -> GatewayError:
    return GatewayError(ErrorKind.UPSTREAM, f"upstream '{provider}' sent no embeddings", code="upstream_bad_response")


def titan_vector(raw: bytes, provider: str) -> tuple[list[float], int | None]:
    """The vector of one Titan answer, and the tokens it counted."""
    try:
        answer = orjson.loads(raw)
        vector = [float(x) for x in answer["embedding"]]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise _bad(provider) from None
    tokens = answer.get("inputTextTokenCount")
    return vector, tokens if isinstance(tokens, int) else None


def cohere_vectors(raw: bytes, provider: str) -> list[list[float]]:
    """The vectors of one Cohere answer (`embeddings` a list, or by type with `float`)."""
    try:
        found = orjson.loads(raw)["embeddings"]
        found = found["float"] if isinstance(found, dict) else found
        return [[float(x) for x in vector] for vector in found]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise _bad(provider) from None
