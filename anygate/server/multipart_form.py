"""Reading a client's multipart/form-data upload (one file and some fields) without holding the file in
memory: when the fields a route needs come before the file, the file streams on to the upstream as it
is read; otherwise it is spooled (to disk past 1 MB) until the rest of the form has been read."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from typing import IO, Any

from aiohttp import BodyPartReader, MultipartReader

from anygate.core.errors import ErrorKind, GatewayError, invalid_request
from anygate.providers.base import Upload
from anygate.server import web

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 64
_CHUNK = 64 * 1024
_SPOOL_IN_MEMORY = 1024 * 1024
_CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")


def too_large(limit: int) -> GatewayError:
    """The 413 of an upload over the route's limit."""
    return GatewayError(
        ErrorKind.INVALID_REQUEST, f"The file is larger than this route takes ({limit // (1024 * 1024)} MB)", status=413
    )


async def read_upload(request: web.Request, needs: Collection[str], limit: int, file_field: str = "file") -> Upload:
    """The form's fields and its file (`file_field`), at most `limit` bytes; 400 when it is not a
    multipart form or has no such file, 413 when the file (or the declared body) is larger."""
    if not request.content_type.startswith("multipart/form-data"):
        raise invalid_request("This route takes a multipart/form-data body with a file")
    if request.content_length is not None and request.content_length > limit + MAX_FIELDS * MAX_FIELD_BYTES:
        raise too_large(limit)
    idle = request.body_timeout
    reader = await request.multipart()
    fields: list[tuple[str, str]] = []
    while True:
        part = await _next(reader, idle)
        if part is None:
            raise invalid_request(f"The form has no '{file_field}' file", param=file_field)
        if part.name == file_field and part.filename is not None:
            break
        fields.append(await _field(part, idle, len(fields)))
    kind = part.headers.get("Content-Type", "application/octet-stream")
    content_type = kind if _CONTENT_TYPE.match(kind) else "application/octet-stream"
    filename = part.filename or "file"
    known = {name for name, _ in fields}
    if all(name in known for name in needs):
        failure: list[Exception] = []
        chunks = _streamed(part, limit, idle, failure)
        return Upload(fields, file_field, filename, content_type, chunks, _after(reader, idle, len(fields)), failure)
    spool = await _spooled(part, limit, idle)
    more = await _after(reader, idle, len(fields))()
    return Upload(fields + more, file_field, filename, content_type, _from_spool(spool), _none)


async def _none() -> list[tuple[str, str]]:
    return []


async def _next(reader: MultipartReader, idle: float) -> BodyPartReader | None:
    try:
        part = await asyncio.wait_for(reader.next(), idle)
    except TimeoutError:
        raise GatewayError(
            ErrorKind.INVALID_REQUEST, "The request body did not arrive in time", status=408, headers={"Connection": "close"}
        ) from None
    except ValueError as exc:  # a malformed form
        raise invalid_request(f"The multipart form could not be read: {exc}") from None
    if part is not None and not isinstance(part, BodyPartReader):
        raise invalid_request("Nested multipart forms are not taken")
    return part


async def _read(part: BodyPartReader, idle: float) -> bytes:
    try:
        return await asyncio.wait_for(part.read_chunk(_CHUNK), idle)
    except TimeoutError:
        raise GatewayError(
            ErrorKind.INVALID_REQUEST, "The request body did not arrive in time", status=408, headers={"Connection": "close"}
        ) from None


async def _field(part: BodyPartReader, idle: float, count: int) -> tuple[str, str]:
    if count >= MAX_FIELDS:
        raise invalid_request(f"The form has more than {MAX_FIELDS} fields")
    data = b""
    while chunk := await _read(part, idle):
        data += chunk
        if len(data) > MAX_FIELD_BYTES:
            raise invalid_request(f"The form field '{part.name}' is longer than {MAX_FIELD_BYTES // 1024} KB", param=part.name)
    try:
        return part.name or "", data.decode()
    except UnicodeDecodeError:
        raise invalid_request(f"The form field '{part.name}' is not UTF-8 text", param=part.name) from None


def _after(reader: MultipartReader, idle: float, count: int) -> Callable[[], Awaitable[list[tuple[str, str]]]]:
    async def rest() -> list[tuple[str, str]]:
        more: list[tuple[str, str]] = []
        while (part := await _next(reader, idle)) is not None:
            if part.filename is not None:
                raise invalid_request("The form may hold one file only", param=part.name)
            more.append(await _field(part, idle, count + len(more)))
        return more

    return rest


async def _streamed(part: BodyPartReader, limit: int, idle: float, failure: list[Exception]) -> AsyncIterator[bytes]:
    """The file's bytes as the client sends them; a failure is kept in `failure` too (the upstream call
    that was reading them fails with a connection error of its own)."""
    size = 0
    try:
        while chunk := await _read(part, idle):
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            yield chunk
    except GatewayError as err:
        failure.append(err)
        raise


async def _spooled(part: BodyPartReader, limit: int, idle: float) -> IO[bytes]:
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - closed once read
    try:
        async for chunk in _streamed(part, limit, idle, []):
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


async def _from_spool(spool: IO[bytes]) -> AsyncIterator[bytes]:
    with spool:
        while chunk := spool.read(_CHUNK):
            yield chunk


def field_value(upload: Upload, name: str) -> str | None:
    """The value of the form field `name` read so far (before the file), or None."""
    return next((value for key, value in upload.fields if key == name), None)


def with_field(upload: Upload, name: str, value: Any) -> Upload:
    """The upload with the field `name` set to `value` (where it stood, or added)."""
    fields = [(key, str(value) if key == name else v) for key, v in upload.fields]
    if all(key != name for key, _ in upload.fields):
        fields.append((name, str(value)))
    return dataclasses.replace(upload, fields=fields)
