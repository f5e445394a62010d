"""Multipart uploads on their way through: read from a client (streamed, or spooled when the fields a
route needs come after the file), written again for the upstream, and the transcript formats made
from verbose_json."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from yarl import URL

from anygate.config import ServerConfig
from anygate.core.errors import GatewayError
from anygate.protocols.openai.transcript_formats import rendered
from anygate.providers.base import Upload
from anygate.providers.multipart import form_body
from anygate.server import web
from anygate.server.listener import HttpServer
from anygate.server.multipart_form import MAX_FIELD_BYTES, MAX_FIELDS, field_value, read_upload, with_field
from anygate.server.router import Router

LIMIT = 1024 * 1024


async def _read(request: web.Request) -> web.Response:
    """What read_upload makes of the form: fields, the file, the fields after it; or its error (with
    the failure the upload kept, when the file was being read)."""
    upload = None
    try:
        upload = await read_upload(request, request.query.getall("need", []), LIMIT)
        data = b"".join([chunk async for chunk in upload.chunks])
        rest = await upload.rest()
    except GatewayError as err:
        kept = [f.message for f in upload.failure if isinstance(f, GatewayError)] if upload is not None else None
        error = {"status": err.status, "message": err.message, "failure": kept, "kind": str(err.kind)}
        return web.json_response(error | ({"headers": err.headers} if err.headers else {}))
    summary = {"fields": upload.fields, "rest": rest, "name": upload.filename, "type": upload.content_type, "size": len(data)}
    return web.json_response({**summary, "head": data[:8].hex(), "failure": [str(f) for f in upload.failure]})


async def _parse(request: web.Request) -> web.Response:
    """How a server reads a written form (aiohttp's multipart parser, under the gateway's `post()`)."""
    form = await request.post()
    out: list[Any] = []
    for name, value in form.items():
        out.append(
            [name, value] if isinstance(value, str) else [name, value.filename, value.content_type, value.file.read().decode()]
        )
    return web.json_response(out)


async def _nowhere(_: web.Request) -> web.Response:
    return web.Response(status=404)


@pytest.fixture
async def server() -> AsyncIterator[URL]:
    """The gateway's own server, with a body timeout of 0.3 s, answering /read and /parse."""
    router = Router(_nowhere)
    router.add("POST", "/read", _read)
    router.add("POST", "/parse", _parse)

    async def handle(request: web.Request) -> web.StreamResponse:
        return await router.resolve(request)(request)

    http = HttpServer(handle, ServerConfig(body_timeout_seconds=0.3))
    await http.start("127.0.0.1", 0)
    yield URL(f"http://127.0.0.1:{http.port}")
    http.stop_listening()
    await http.finish(1)


def _form(*parts: tuple[str, Any]) -> aiohttp.FormData:
    form = aiohttp.FormData(default_to_multipart=True)
    for name, value in parts:
        if isinstance(value, tuple):
            form.add_field(name, value[1], filename=value[0], content_type=value[2])
        else:
            form.add_field(name, value)
    return form


async def _post(server: URL, form: aiohttp.FormData, *needs: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        params = [("need", n) for n in needs]
        async with http.post(server / "read", data=form, params=params) as resp:
            result: dict[str, Any] = await resp.json()
            return result


async def test_a_file_after_the_needed_fields_streams_and_the_fields_after_it_come_later(server: URL) -> None:
    form = _form(("model", "whisper"), ("file", ("a.wav", b"RIFF" + b"\1" * 5000, "audio/wav")), ("language", "en"))
    got = await _post(server, form, "model")
    assert got["fields"] == [["model", "whisper"]] and got["rest"] == [["language", "en"]]
    assert got["size"] == 5004 and got["head"] == "5249464601010101"
    assert got["name"] == "a.wav" and got["type"] == "audio/wav"


async def test_a_file_before_a_needed_field_is_spooled_and_every_field_is_read_first(server: URL) -> None:
    form = _form(("file", ("b.bin", b"\2" * 3000, "application/weird type")), ("model", "m"), ("purpose", "batch"))
    got = await _post(server, form, "model")
    assert got["fields"] == [["model", "m"], ["purpose", "batch"]] and got["rest"] == []
    assert got["size"] == 3000 and got["type"] == "application/octet-stream"  # a content type that is not one is not passed on


@pytest.mark.parametrize("needs", [(), ("model",)])
async def test_a_file_over_the_limit_is_refused_whether_streamed_or_spooled(server: URL, needs: tuple[str, ...]) -> None:
    async def body() -> AsyncIterator[bytes]:  # no Content-Length, so only the reading finds it
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="big"\r\n\r\n'
        for _ in range(11):
            yield b"\0" * 100_000
        yield b'\r\n--x\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n--x--\r\n'

    async with aiohttp.ClientSession() as http:
        url = (server / "read").with_query([("need", n) for n in needs])
        async with http.post(url, data=body(), headers={"Content-Type": "multipart/form-data; boundary=x"}) as resp:
            got = await resp.json()
    assert got["status"] == 413 and got["message"] == "The file is larger than this route takes (1 MB)"
    assert got["kind"] == "invalid_request" and got["failure"] == ([got["message"]] if not needs else None)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (_form(("model", "m")), "The form has no 'file' file"),
        (
            _form(("model", "x" * (MAX_FIELD_BYTES + 1)), ("file", ("a", b"1", "text/plain"))),
            "The form field 'model' is longer than 64 KB",
        ),
        (
            _form(*[(f"f{i}", "v") for i in range(MAX_FIELDS + 1)], ("file", ("a", b"1", "text/plain"))),
            "The form has more than 64 fields",
        ),
        (_form(("file", ("a", b"1", "text/plain")), ("file2", ("b", b"2", "text/plain"))), "The form may hold one file only"),
        (
            _form(("model", "m"), ("file", ("a", b"1", "text/plain")), *[(f"f{i}", "v") for i in range(MAX_FIELDS)]),
            "The form has more than 64 fields",
        ),
    ],
)
async def test_forms_that_are_not_one_file_and_a_few_short_fields_are_refused(
    server: URL, form: aiohttp.FormData, message: str
) -> None:
    got = await _post(server, form, "model")
    assert (got["status"], got["message"], got["kind"]) == (400, message, "invalid_request")


async def test_a_body_that_is_not_a_form_is_refused(server: URL) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(server / "read", json={"model": "m"}) as resp:
            assert (await resp.json())["message"] == "This route takes a multipart/form-data body with a file"


def _upload(fields: list[tuple[str, str]], rest: list[tuple[str, str]], filename: str = "a.txt") -> Upload:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"hello "
        yield b"world"

    async def after() -> list[tuple[str, str]]:
        return rest

    return Upload(fields, "file", filename, "text/plain", chunks(), after)


async def test_a_written_form_reads_back_the_same_with_awkward_names(server: URL) -> None:
    upload = with_field(
        _upload([("model", "public"), ("prénom", "é")], [("late", "1"), ("later", "2")], 'a "b"\r\n.txt'), "model", "upstream"
    )
    assert field_value(upload, "model") == "upstream" and field_value(upload, "absent") is None
    content_type, body = form_body(with_field(upload, "added", 7))
    assert content_type.startswith("multipart/form-data; boundary=anygate-")
    async with aiohttp.ClientSession() as http:
        async with http.post(server / "parse", data=body, headers={"Content-Type": content_type}) as resp:
            parsed = await resp.json()
    assert parsed == [
        ["model", "upstream"],
        ["prénom", "é"],
        ["added", "7"],
        ["file", "a %22b%22%0D%0A.txt", "text/plain", "hello world"],  # encoded as browsers and httpx do: no header breaks out
        ["late", "1"],
        ["later", "2"],
    ]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("text", "Hello. Bye.\n"),
        ("srt", "1\n00:00:00,000 --> 00:00:01,250\nHello.\n\n2\n01:02:03,004 --> 01:02:05,500\nBye.\n\n"),
        ("vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:01.250\nHello.\n\n01:02:03.004 --> 01:02:05.500\nBye.\n\n"),
    ],
)
def test_transcripts_are_written_as_openai_writes_them(kind: str, expected: str) -> None:
    answer = {
        "text": "Hello. Bye.",
        "duration": 3725.5,
        "segments": [{"start": 0, "end": 1.25, "text": " Hello."}, {"start": 3723.004, "end": 3725.5, "text": " Bye. "}],
    }
    assert rendered(answer, kind) == expected


def test_a_transcript_without_segments_is_one_cue_over_its_duration() -> None:
    assert rendered({"text": "All of it.", "duration": 61.5}, "srt") == "1\n00:00:00,000 --> 00:01:01,500\nAll of it.\n\n"
    assert rendered({"text": "x"}, "vtt") == "WEBVTT\n\n00:00:00.000 --> 00:00:00.000\nx\n\n"
    assert rendered({}, "text") == "\n" and rendered({}, "srt") == "1\n00:00:00,000 --> 00:00:00,000\n\n\n"
    assert rendered({"segments": [{"start": 1}]}, "srt") == "1\n00:00:01,000 --> 00:00:00,000\n\n\n"


async def _raw(server: URL, *pieces: bytes, needs: tuple[str, ...] = ("model",), pause: int = -1) -> dict[str, Any]:
    """A hand-written form, sent in `pieces`; the client goes quiet for a second before piece `pause`."""

    async def body() -> AsyncIterator[bytes]:
        for number, piece in enumerate(pieces):
            if number == pause:
                await asyncio.sleep(1)
            yield piece

    async with aiohttp.ClientSession() as http:
        url = (server / "read").with_query([("need", n) for n in needs])
        async with http.post(url, data=body(), headers={"Content-Type": "multipart/form-data; boundary=x"}) as resp:
            result: dict[str, Any] = await resp.json()
            return result


MODEL = b'--x\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n'
FILE = b'--x\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n\r\n'
END = b"\r\n--x--\r\n"


@pytest.mark.parametrize(("pause", "needs"), [(1, ("model",)), (2, ("model",)), (2, ("absent",)), (3, ("model",))])
async def test_a_client_that_goes_quiet_mid_form_gets_a_408_and_its_connection_closed(
    server: URL, pause: int, needs: tuple[str, ...]
) -> None:
    got = await _raw(server, MODEL[:20], MODEL[20:] + FILE + b"abc", b"def", b"ghi" + END + MODEL, needs=needs, pause=pause)
    assert (
        got["status"] == 408
        and got["message"] == "The request body did not arrive in time"
        and got["headers"] == {"Connection": "close"}
    )


async def test_a_file_part_without_a_type_or_a_filename_is_octet_stream_named_file(server: URL) -> None:
    got = await _raw(server, MODEL + b'--x\r\nContent-Disposition: form-data; name="file"; filename=""\r\n\r\nabc' + END)
    assert (got["name"], got["type"], got["size"]) == ("file", "application/octet-stream", 3)


async def test_a_file_of_exactly_the_limit_and_fields_of_exactly_64_kb_are_taken(server: URL) -> None:
    long = "x" * MAX_FIELD_BYTES
    form = _form(("model", long), ("file", ("a.bin", b"\1" * LIMIT, "application/octet-stream")), ("after", long))
    got = await _post(server, form, "model")
    assert got["size"] == LIMIT and got["fields"] == [["model", long]] and got["rest"] == [["after", long]]


async def test_a_file_part_other_than_the_file_is_read_as_a_field(server: URL) -> None:
    form = _form(
        ("note", ("note.txt", b"hello", "text/plain")), ("model", "m"), ("file", ("a.bin", b"12", "application/x-thing"))
    )
    got = await _post(server, form, "model")
    assert got["fields"] == [["note", "hello"], ["model", "m"]] and got["size"] == 2 and got["type"] == "application/x-thing"


async def test_a_field_that_is_not_utf8_is_refused(server: URL) -> None:
    got = await _raw(server, b'--x\r\nContent-Disposition: form-data; name="model"\r\n\r\n\xff\xfe\r\n' + FILE + b"a" + END)
    assert (got["status"], got["message"]) == (400, "The form field 'model' is not UTF-8 text")
