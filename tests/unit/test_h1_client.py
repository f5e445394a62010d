"""The upstream client (providers/h1_client.py) against raw servers on loopback that answer as real
ones may: kept-alive and reused, chunked, ended by the connection's close, over TLS, too slow, too
large, malformed, or gone; and a reader slower than the upstream."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import ClientOSError, ClientPayloadError, ServerDisconnectedError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from anygate.providers import h1_client
from anygate.providers.h1_client import H1Pool

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _request(reader: asyncio.StreamReader) -> bytes:
    """One request's head and body (by its Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0)
    return head + await reader.readexactly(length)


def _says(answer: bytes) -> Answer:
    """An upstream that reads one request and writes `answer` (then closes)."""

    async def say(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request(reader)
        writer.write(answer)
        await writer.drain()

    return say


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request(reader)
    await asyncio.sleep(5)


async def _serve(answer: Answer, tls: ssl.SSLContext | None = None) -> tuple[asyncio.Server, int, list[bytes]]:
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(b"connection")
        try:
            await answer(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    return server, server.sockets[0].getsockname()[1], seen


async def _ok_twice(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    for _ in range(2):
        request = await _request(reader)
        assert request.startswith(b"POST /v1/x?a=1 HTTP/1.1\r\n") and request.endswith(b'{"q":1}')
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 9\r\n\r\n{"ok":1}\n')
        await writer.drain()


async def test_a_kept_alive_connection_is_reused() -> None:
    server, port, seen = await _serve(_ok_twice)
    pool = H1Pool()
    for _ in range(2):
        resp = await pool.request(
            "POST", f"http://127.0.0.1:{port}/v1/x?a=1", {"Content-Type": "application/json"}, b'{"q":1}', 5
        )
        await resp.start(5)
        assert (resp.status, resp.content_type) == (200, "application/json")
        assert await resp.read(1000, 5) == b'{"ok":1}\n'
        resp.release()
    assert seen == [b"connection"], "one connection for both calls"
    pool.close()
    server.close()


async def _no_content_then_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request(reader)
    writer.write(b"HTTP/1.1 204 No Content\r\nContent-Type: application/json\r\n\r\n")  # no length: none is needed
    await writer.drain()
    await _request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    await writer.drain()


async def test_an_answer_without_a_body_ends_at_its_headers_and_keeps_the_connection() -> None:
    server, port, seen = await _serve(_no_content_then_ok)
    pool = H1Pool()
    resp = await pool.request("DELETE", f"http://127.0.0.1:{port}/v1/files/f", {}, None, 5)
    await resp.start(5)
    assert (resp.status, resp.complete) == (204, True)
    assert await resp.read(1000, 0.5) == b""
    resp.release()
    resp = await pool.request("GET", f"http://127.0.0.1:{port}/v1/x", {}, None, 5)
    await resp.start(5)
    assert await resp.read(1000, 5) == b"ok"
    resp.release()
    assert seen == [b"connection"], "the connection was kept"
    pool.close()
    server.close()


async def _chunked_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    for piece in (b"data: 1\n\n", b"data: 2\n\n"):
        writer.write(b"%x\r\n%b\r\n" % (len(piece), piece))
        await writer.drain()
        await asyncio.sleep(0.01)
    writer.write(b"0\r\n\r\n")
    await writer.drain()


_until_close = _says(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + b'{"a":"' + b"x" * 5000 + b'"}')


async def test_chunked_streams_and_bodies_that_end_with_the_connection() -> None:
    server, port, _ = await _serve(_chunked_then_close)
    pool = H1Pool()
    resp = await pool.request("POST", f"http://127.0.0.1:{port}/s", {}, b"{}", 5)
    await resp.start(5)
    assert resp.content_type == "text/event-stream"
    assert b"".join([chunk async for chunk in resp.chunks(5)]) == b"data: 1\n\ndata: 2\n\n" and resp.complete
    resp.release()
    server.close()
    server, port, _ = await _serve(_until_close)
    resp = await pool.request("POST", f"http://127.0.0.1:{port}/", {}, b"{}", 5)
    await resp.start(5)
    body = await resp.read(10_000, 5)
    assert body is not None and len(body) == 5008 and resp.complete
    resp.release()
    server.close()


async def test_bounded_waits_and_sizes() -> None:
    large = _says(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000)
    large_chunked = _says(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"%x\r\n%b\r\n" % (5000, b"y" * 5000) * 4 + b"0\r\n\r\n"
    )

    pool = H1Pool()
    server, port, _ = await _serve(_silent)
    resp = await pool.request("POST", f"http://127.0.0.1:{port}/", {}, b"{}", 5)
    with pytest.raises(TimeoutError):
        await resp.start(0.2)
    resp.close()
    resp = await pool.request("POST", f"http://127.0.0.1:{port}/", {}, b"{}", 5, deadline=time.monotonic() + 0.2)
    with pytest.raises(TimeoutError):
        await resp.start(None)  # the whole call's deadline bounds it too
    resp.close()
    server.close()
    for answer in (large, large_chunked):
        server, port, _ = await _serve(answer)
        resp = await pool.request("POST", f"http://127.0.0.1:{port}/", {}, b"{}", 5)
        await resp.start(5)
        assert await resp.read(10_000, 5) is None, "past the limit: no truncated body"
        resp.close()
        server.close()
    with pytest.raises(ClientOSError, match="cannot connect"):
        await pool.request("POST", f"http://127.0.0.1:{port}/", {}, b"{}", 5)  # nothing listens there any more
    with pytest.raises(ValueError, match="line break"):
        await pool.request("POST", f"http://127.0.0.1:{port}/", {"X-Key": "a\r\nX-Evil: 1"}, b"{}", 5)


async def _endless_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\n")
    for _ in range(400):  # 4 MB of headers, and no end to them
        writer.write(b"X-Padding: %b\r\n" % (b"p" * 10_000))
        await writer.drain()
    await asyncio.sleep(5)


async def test_an_upstreams_head_is_bounded_and_read_as_sent() -> None:
    many = _says(
        b"HTTP/1.1 200 OK\r\nContent-Type: Text/Plain; charset=utf-8\r\nX-Twice: 1\r\nx-twice: 2\r\n"
        b"Retry-After: 7\r\nX-Latin: caf\xe9\r\nContent-Length: 2\r\n\r\nok"
    )
    pool = H1Pool()
    server, port, _ = await _serve(_endless_head)
    resp = await pool.request("POST", f"http://127.0.0.1:{port}/", {}, b"{}", 5)
    started = time.monotonic()
    with pytest.raises(ClientPayloadError, match="headers are longer"):
        await resp.start(5)
    assert time.monotonic() - started < 4, "refused when the head passed its bound, not at the timeout"
    server.close()
    server, port, _ = await _serve(many)
    resp = await pool.request("POST", f"http://127.0.0.1:{port}/", {}, b"{}", 5)
    await resp.start(5)
    assert resp.headers == {
        "content-type": "Text/Plain; charset=utf-8",
        "x-twice": "2",
        "retry-after": "7",
        "x-latin": "caf\xe9",
        "content-length": "2",
    }
    assert resp.content_type == "text/plain"
    assert (resp.header(b"x-twice"), resp.header(b"retry-after"), resp.header(b"x-absent")) == ("2", "7", None)
    assert await resp.read(100, 5) == b"ok"
    resp.release()
    server.close()


async def test_malformed_and_broken_answers() -> None:
    garbage = _says(b"NOT HTTP AT ALL\r\n\r\n")
    cut = _says(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")

    pool = H1Pool()
    server, port, _ = await _serve(garbage)
    resp = await pool.request("POST", f"http://127.0.0.1:{port}/", {}, b"{}", 5)
    with pytest.raises(ClientPayloadError, match="not valid HTTP"):
        await resp.start(5)
    server.close()
    server, port, _ = await _serve(cut)
    resp = await pool.request("POST", f"http://127.0.0.1:{port}/", {}, b"{}", 5)
    await resp.start(5)
    with pytest.raises(ServerDisconnectedError):
        await resp.read(1000, 5)
    resp.release()  # not reused: it did not end cleanly
    assert not pool._idle.get(("http", "127.0.0.1", port))
    server.close()


async def test_a_slow_reader_pauses_the_upstream() -> None:
    sent = asyncio.Event()

    async def firehose(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 30000000\r\n\r\n")
        for _ in range(300):
            writer.write(b"z" * 100_000)
            await writer.drain()
        sent.set()

    server, port, _ = await _serve(firehose)
    pool = H1Pool()
    resp = await pool.request("POST", f"http://127.0.0.1:{port}/", {}, b"{}", 5)
    await resp.start(5)
    await asyncio.sleep(0.3)
    assert not sent.is_set() and resp._buffered <= 3 * (1 << 20), "the upstream waits while the reader is behind"
    total = 0
    async for chunk in resp.chunks(5):
        total += len(chunk)
    assert total == 30_000_000 and sent.is_set()
    resp.release()
    pool.close()
    server.close()


def _certificate(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context for 127.0.0.1 with a self-signed certificate, and a client context trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cafile=str(folder / "cert.pem"))
    return server, client


async def test_tls_is_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server_tls, client_tls = _certificate(tmp_path)
    server, port, _ = await _serve(_ok_twice, server_tls)
    pool = H1Pool()
    with pytest.raises(ClientOSError, match="CERTIFICATE_VERIFY_FAILED"):  # the system's trust store knows it not
        await pool.request("POST", f"https://127.0.0.1:{port}/v1/x?a=1", {}, b'{"q":1}', 5)
    monkeypatch.setattr(h1_client, "_tls", client_tls)
    resp = await pool.request("POST", f"https://127.0.0.1:{port}/v1/x?a=1", {}, b'{"q":1}', 5)
    await resp.start(5)
    assert resp.status == 200 and await resp.read(100, 5) == b'{"ok":1}\n'
    resp.release()
    pool.close()
    server.close()


async def test_what_is_reused_and_what_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection the upstream will close, or closed, or that waited too long, or that talked out of
    turn is never used again; a body exactly at the limit is whole."""

    close_after = _says(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")

    async def chatty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.write(b"HTTP/1.1 200 OK\r\n")  # nothing was asked
        await writer.drain()
        await _request(reader)

    pool = H1Pool()
    for answer in (close_after, chatty):
        server, port, seen = await _serve(answer)
        key = ("http", "127.0.0.1", port)
        resp = await pool.request("POST", f"http://127.0.0.1:{port}/", {}, b"{}", 5)
        await resp.start(5)
        assert await resp.read(2, 5) == b"ok", "a body exactly at the limit is whole"
        resp.release()
        if answer is close_after:
            assert not pool._idle.get(key), "Connection: close is not kept"
        else:
            await asyncio.sleep(0.3)
            assert pool._reused(key) is None, "a connection that talked out of turn was closed"
        server.close()
    server, port, seen = await _serve(_ok_twice)
    monkeypatch.setattr(h1_client, "_IDLE_SECONDS", 0.0)
    for _ in range(2):
        resp = await pool.request("POST", f"http://127.0.0.1:{port}/v1/x?a=1", {}, b'{"q":1}', 5)
        await resp.start(5)
        await resp.read(100, 5)
        resp.release()
    assert seen == [b"connection", b"connection"], "a connection idle past its time is not reused"
    server.close()


async def test_a_chunked_body_cut_short_is_an_error_and_timeouts_are_kept() -> None:
    cut_stream = _says(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")

    pool = H1Pool()
    server, port, _ = await _serve(cut_stream)
    resp = await pool.request("POST", f"http://127.0.0.1:{port}/", {}, b"{}", 5)
    await resp.start(5)
    assert await resp.chunk(5) == b"hello"
    with pytest.raises(ServerDisconnectedError):
        await resp.chunk(5)
    assert not resp.complete
    server.close()
    server, port, _ = await _serve(_silent)
    for timeout, deadline in ((0.2, None), (5.0, 0.2)):
        resp = await pool.request(
            "POST", f"http://127.0.0.1:{port}/", {}, b"{}", 5, deadline=time.monotonic() + deadline if deadline else None
        )
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await resp.start(timeout)
        assert time.monotonic() - started < 0.8, "the shorter of the wait's timeout and the call's deadline"
        resp.close()
    server.close()


def _in_pieces(*pieces: bytes, pause: float = 0.02) -> Answer:
    """An upstream that reads one request and writes its answer in `pieces`, each after a pause."""

    async def say(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request(reader)
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(pause)
        await asyncio.sleep(5)  # then silent, the connection open

    return say


async def _answer(answer: Answer, pool: H1Pool) -> tuple[asyncio.Server, h1_client.H1Response]:
    server, port, _ = await _serve(answer)
    resp = await pool.request("POST", f"http://127.0.0.1:{port}/", {}, b"{}", 5)
    await resp.start(5)
    return server, resp


async def test_answers_read_as_they_arrive() -> None:
    pool = H1Pool()
    padding = b"".join(b"X-Pad-%d: %b\r\n" % (i, b"p" * 1000) for i in range(20))  # 20 KB, under the bound
    server, resp = await _answer(
        _in_pieces(b"HTTP/1.1 200 OK\r\n", padding[:7000], padding[7000:], b"Content-Length: 2\r\n\r\n", b"o", b"k"), pool
    )
    assert (resp.status, resp.content_type, resp.header(b"x-pad-19")) == (200, "", "p" * 1000), "a long head in pieces"
    assert await resp.read(2, 5) == b"ok", "a body in two pieces, joined, at its limit"
    server.close()
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    server, resp = await _answer(_in_pieces(chunked, b"5\r\n12345\r\n", b"4\r\n6789\r\n", b"0\r\n\r\n"), pool)
    assert await resp.read(8, 5) is None, "past the limit over several reads, no length declared"
    server.close()
    server, resp = await _answer(_in_pieces(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nstart"), pool)
    started = time.monotonic()
    assert await resp.read(1000, 5) is None and time.monotonic() - started < 1, "a declared length past the limit: at once"
    server.close()
    two_at_once = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n"
    server, resp = await _answer(_in_pieces(two_at_once, b"0\r\n\r\n"), pool)
    await asyncio.sleep(0.01)  # both chunks are in before the first read
    assert [c async for c in resp.chunks(5, first=b"first ")] == [b"first ", b"hello world"]
    server.close()
    server, resp = await _answer(_in_pieces(two_at_once), pool)
    with pytest.raises(TimeoutError):
        async for _ in resp.chunks(0.2):  # the upstream falls silent mid-body
            pass
    resp.close()
    server.close()
