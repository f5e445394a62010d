"""An Upload written as a multipart/form-data body, the file's bytes streamed as they come."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

from anygate.providers.base import Upload


def _quoted(value: str) -> str:
    """A name or filename as it may stand between the quotes of a Content-Disposition header (as
    browsers and httpx write it: quotes and line breaks percent-encoded)."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _field(boundary: bytes, name: str, value: str) -> bytes:
    head = f'Content-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'.encode()
    return b"--" + boundary + b"\r\n" + head + value.encode() + b"\r\n"


def form_body(upload: Upload) -> tuple[str, AsyncIterator[bytes]]:
    """The Content-Type (with its boundary) and the body's bytes: the fields, the file, the fields after it."""
    boundary = b"anygate-" + secrets.token_hex(16).encode()

    async def body() -> AsyncIterator[bytes]:
        yield b"".join(_field(boundary, name, value) for name, value in upload.fields)
        disposition = (
            f'Content-Disposition: form-data; name="{_quoted(upload.file_field)}"; filename="{_quoted(upload.filename)}"\r\n'
        )
        yield b"--" + boundary + b"\r\n" + disposition.encode() + f"Content-Type: {upload.content_type}\r\n\r\n".encode()
        async for chunk in upload.chunks:
            yield chunk
        yield b"\r\n" + b"".join(_field(boundary, name, value) for name, value in await upload.rest())
        yield b"--" + boundary + b"--\r\n"

    return f"multipart/form-data; boundary={boundary.decode()}", body()
