"""The gateway's HTTP/1.1 server, on a loopback port, spoken to byte by byte: keep-alive, pipelining,
chunked bodies in and out, HEAD, Expect: 100-continue, the bounds on lines, headers and time,
malformed input, back-pressure, a client that leaves, and a shutdown."""

from __future__ import annotations

import asyncio
import gc
import re
from collections.abc import AsyncIterator

import pytest

from anygate.config import ServerConfig
from anygate.server import web
from anygate.server.listener import HttpServer
from anygate.server.router import Router

EVENTS: list[str] = []


async def _echo(request: web.Request) -> web.Response:
    try:
        body = await request.read()
    except web.BadBody as exc:  # as the gateway's JSON reader answers it
        return web.Response(status=400, text=str(exc))
    except web.BodyTooLarge:
        return web.Response(status=413, text="too large")
    except ConnectionResetError:
        EVENTS.append("body cut off")
        raise
    delay = float(request.query.get("sleep", "0"))
    if delay:
        await asyncio.sleep(delay)
    return web.Response(body=b"%b %b %b" % (request.method.encode(), request.path.encode(), body), content_type="text/plain")


async def _stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for n in range(int(request.query.get("n", "3"))):
        await response.write(b"data: %d\n\n" % n)
    await response.write_eof()
    return response


async def _flood(request: web.Request) -> web.StreamResponse:
    """Writes 64 KB pieces until 16 MB are out or the client has gone, counting the writes."""
    response = web.StreamResponse()
    await response.prepare(request)
    written = 0
    try:
        for _ in range(256):
            await response.write(b"x" * 65536)
            written += 1
            EVENTS.append(f"wrote {written}")
        await response.write_eof()
    except ConnectionResetError:
        EVENTS.append("client gone")
    return response


async def _bad_header(_: web.Request) -> web.Response:
    return web.Response(text="x", headers={"X-Evil": "a\r\nSet-Cookie: stolen=1"})


async def _hang_up(request: web.Request) -> web.Response:
    assert request.transport is not None
    request.transport.close()  # closing, not yet closed: the answer finds the connection going
    return web.Response(text="too late")


async def _fail(_: web.Request) -> web.Response:
    raise RuntimeError("a bug")


async def _unusual(request: web.Request) -> web.StreamResponse:
    if request.query.get("close"):
        return web.Response(text="bye", headers={"Connection": "close"})
    return web.StreamResponse(status=int(request.query.get("status", "204")))  # never started: sent empty


async def _parameters(request: web.Request) -> web.Response:
    return web.json_response({"match": request.match_info, "query": list(request.query.items())})


async def _fallback(request: web.Request) -> web.Response:
    return web.Response(status=404, text=f"no route for {request.method} {request.path}")


@pytest.fixture
async def server() -> AsyncIterator[HttpServer]:
    router = Router(_fallback)
    router.add("POST", "/echo", _echo)
    router.add("GET", "/echo", _echo)
    router.add("POST", "/stream", _stream)
    router.add("GET", "/flood", _flood)
    router.add("GET", "/bad-header", _bad_header)
    router.add("GET", "/hang-up", _hang_up)
    router.add("GET", "/fail", _fail)
    router.add("GET", "/unusual", _unusual)
    router.add("GET", "/things/{thing_id}/parts/{rest:.+}", _parameters)

    async def handle(request: web.Request) -> web.StreamResponse:
        return await router.resolve(request)(request)

    http = HttpServer(handle, ServerConfig(header_timeout_seconds=0.5, body_timeout_seconds=1, max_connections=8))
    await http.start("127.0.0.1", 0)
    EVENTS.clear()
    yield http
    http.stop_listening()
    await http.finish(1)


async def _open(server: HttpServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port)


async def _response(reader: asyncio.StreamReader, head_only: bool = False) -> tuple[bytes, dict[str, str], bytes]:
    """One response: its status line, headers (lower-cased names) and body (de-chunked)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    status, *lines = head.decode().split("\r\n")[:-2]
    headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines)}
    if head_only:
        return status.encode(), headers, b""
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n"))[:-2], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status.encode(), headers, body
            body += chunk[:-2]
    return status.encode(), headers, await reader.readexactly(int(headers.get("content-length", "0")))


async def _closed(reader: asyncio.StreamReader) -> bool:
    return await asyncio.wait_for(reader.read(), 5) == b""


async def test_requests_on_one_connection_are_answered_in_turn_and_it_stays_open(server: HttpServer) -> None:
    reader, writer = await _open(server)
    for n in range(3):
        writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n%d" % n)
        status, headers, body = await _response(reader)
        assert status == b"HTTP/1.1 200 OK" and body == b"POST /echo %d" % n
        assert headers["server"] == "anygate" and "connection" not in headers and headers["content-type"] == "text/plain"
        assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", headers["date"])
    writer.close()


async def test_pipelined_requests_are_answered_in_the_order_sent(server: HttpServer) -> None:
    reader, writer = await _open(server)
    writer.write(
        b"POST /echo?sleep=0.2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst"
        b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nthi\r\n2;ext=1\r\nrd\r\n0\r\n\r\n"
    )
    bodies = [(await _response(reader))[2] for _ in range(3)]
    assert bodies == [b"POST /echo first", b"GET /echo ", b"POST /echo third"]
    writer.close()


async def test_http_1_0_closes_unless_asked_to_keep_alive(server: HttpServer) -> None:
    reader, writer = await _open(server)
    writer.write(b"GET /echo HTTP/1.0\r\n\r\n")
    status, headers, body = await _response(reader)
    assert headers["connection"] == "close" and body == b"GET /echo " and await _closed(reader)
    reader, writer = await _open(server)
    writer.write(b"GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert (await _response(reader))[1]["connection"] == "keep-alive"
    writer.write(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (await _response(reader))[1]["connection"] == "close" and await _closed(reader)


async def test_a_chunked_body_comes_in_pieces_and_a_stream_goes_out_chunked(server: HttpServer) -> None:
    reader, writer = await _open(server)
    writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab")
    await asyncio.sleep(0.05)
    writer.write(b"cd\r\n")
    await asyncio.sleep(0.05)
    writer.write(b"1\r\ne\r\n0\r\n\r\n")
    assert (await _response(reader))[2] == b"POST /echo abcde"
    writer.write(b"POST /stream?n=4 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    status, headers, body = await _response(reader)
    assert headers["transfer-encoding"] == "chunked" and "content-length" not in headers
    assert body == b"data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\n"
    writer.write(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")  # the connection goes on after the stream's end
    assert (await _response(reader))[2] == b"GET /echo "
    writer.close()


async def test_a_stream_to_an_http_1_0_client_ends_with_the_connection(server: HttpServer) -> None:
    reader, writer = await _open(server)
    writer.write(b"POST /stream?n=2 HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    assert b"Transfer-Encoding" not in head and b"Connection: close" in head
    assert await asyncio.wait_for(reader.read(), 5) == b"data: 0\n\ndata: 1\n\n"


async def test_head_has_the_length_but_no_body_and_route_parameters_are_decoded(server: HttpServer) -> None:
    reader, writer = await _open(server)
    writer.write(
        b"HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\nGET /things/a%20b/parts/c/d%2Fe?x=1+2&x=&y=%C3%A9 HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    status, headers, _ = await _response(reader, head_only=True)
    assert status == b"HTTP/1.1 200 OK" and headers["content-length"] == "11"
    status, _, body = await _response(reader)  # straight after the HEAD's head: no body was sent
    assert body == b'{"match":{"thing_id":"a b","rest":"c/d/e"},"query":[["x","1 2"],["x",""],["y","\xc3\xa9"]]}'
    writer.write(b"GET http://gateway.example:8080/echo?x=1 HTTP/1.1\r\nHost: x\r\n\r\n")  # absolute form
    assert (await _response(reader))[2] == b"GET /echo "
    writer.write(b"DELETE /echo HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await _response(reader))[:3:2] == (b"HTTP/1.1 404 Not Found", b"no route for DELETE /echo")
    writer.close()


async def test_expect_100_continue_is_answered_before_the_body_is_sent(server: HttpServer) -> None:
    reader, writer = await _open(server)
    writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
    assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5) == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"abc")
    assert (await _response(reader))[2] == b"POST /echo abc"
    writer.close()


@pytest.mark.parametrize(
    ("request_bytes", "status", "says"),
    [
        (b"GET /" + b"a" * 8200 + b" HTTP/1.1\r\n\r\n", b"414 ", b"URL is longer"),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 8200 + b"\r\nHost: x\r\n\r\n", b"431 Request Header Fields Too Large", b"headers"),
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(129)) + b"\r\n", b"431 ", b"128 headers"),
        (
            b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: %b\r\n" % (n, b"a" * 8000) for n in range(9)) + b"\r\n",
            b"431 ",
            b"65536 bytes",
        ),
        (b"GET /echo HTTP/1.1\r\nX-Max: " + b"a" * 8190 + b"\r\nConnection: close\r\n\r\n", b"200 OK", b"GET /echo "),
        (
            b"GET /echo HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(128)) + b"Connection: close\r\n\r\n",
            b"431 ",
            b"128",
        ),
        (b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", b"400 Bad Request", b"Malformed request"),
        (b"NOT A REQUEST\r\n\r\n", b"400 Bad Request", b"Malformed request"),
        (b"GET http:// HTTP/1.1\r\nHost: x\r\n\r\n", b"400 Bad Request", b"not a path or an absolute URL"),
        (
            b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            b"400 ",
            b"Malformed",
        ),
        (b"POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n", b"400 ", b"Malformed"),
        (b"POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", b"400 ", b"Malformed"),
        (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", b"400 ", b"Malformed"),
        (b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n\x00\x01garbage\r\n\r\n", b"200 OK", b"GET /echo "),
    ],
)
async def test_lines_headers_and_framing_at_and_past_their_bounds(
    server: HttpServer, request_bytes: bytes, status: bytes, says: bytes
) -> None:
    reader, writer = await _open(server)
    writer.write(request_bytes)
    answer = await asyncio.wait_for(reader.read(), 5)  # everything up to the close
    assert answer.startswith(b"HTTP/1.1 " + status) and says in answer and b"Server: anygate\r\n" in answer
    assert b"python" not in answer.lower()
    writer.close()


async def test_slow_headers_get_a_408_and_an_idle_connection_is_closed(server: HttpServer) -> None:
    reader, writer = await _open(server)
    writer.write(b"GET /echo HTTP/1.1\r\nHost: x\r\n")
    answer = await asyncio.wait_for(reader.read(), 3)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout") and b"did not arrive in time" in answer
    reader, writer = await _open(server)  # a connection that never says anything
    assert (await asyncio.wait_for(reader.read(), 3)).startswith(b"HTTP/1.1 408")
    server.keepalive_timeout = 0.3
    reader, writer = await _open(server)
    writer.write(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
    await _response(reader)
    assert await asyncio.wait_for(reader.read(), 3) == b""  # closed without a word once idle too long


async def test_a_header_that_would_break_the_head_is_a_500_not_an_injection(server: HttpServer) -> None:
    reader, writer = await _open(server)
    writer.write(b"GET /bad-header HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = await _response(reader)
    assert status == b"HTTP/1.1 500 Internal Server Error" and "set-cookie" not in headers and "x-evil" not in headers
    writer.close()


async def test_a_client_that_does_not_read_holds_the_writer_back_and_one_that_leaves_stops_it(server: HttpServer) -> None:
    reader, writer = await _open(server)
    writer.write(b"GET /flood HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.sleep(0.5)
    held = len(EVENTS)
    assert 0 < held < 128, "the writer waits for a client that does not read, rather than buffering 16 MB"
    received = 0
    while received < 8 * 65536:
        received += len(await reader.read(65536))
    writer.close()
    for _ in range(50):
        if "client gone" in EVENTS:
            break
        await asyncio.sleep(0.05)
    assert EVENTS[-1] == "client gone" and len(EVENTS) < 256


async def test_what_a_stream_writes_in_one_turn_goes_out_in_one_write_and_before_what_follows(server: HttpServer) -> None:
    reader, writer = await _open(server)
    writer.write(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
    await _response(reader)
    (connection,) = server.connections
    transport = connection.transport
    assert transport is not None
    sent: list[bytes] = []
    write = transport.write

    def counted(data: bytes) -> None:
        sent.append(bytes(data))
        write(data)

    transport.write = counted  # type: ignore[method-assign,assignment]
    writer.write(b"POST /stream?n=3 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nGET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await _response(reader))[2] == b"data: 0\n\ndata: 1\n\ndata: 2\n\n" and (await _response(reader))[2] == b"GET /echo "
    assert len(sent) == 2 and sent[0].startswith(b"HTTP/1.1 200 OK") and sent[0].endswith(b"0\r\n\r\n")
    writer.close()


async def test_a_body_left_unread_and_incomplete_closes_the_connection_after_the_answer(server: HttpServer) -> None:
    reader, writer = await _open(server)
    writer.write(b"GET /bad-path HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part")
    status, headers, _ = await _response(reader)
    assert status == b"HTTP/1.1 404 Not Found" and headers["connection"] == "close" and await _closed(reader)


async def test_an_answer_for_a_connection_already_going_is_dropped_without_a_failed_task(server: HttpServer) -> None:
    loop = asyncio.get_running_loop()
    failures: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _, context: failures.append(context))
    reader, writer = await _open(server)
    writer.write(b"GET /hang-up HTTP/1.1\r\nHost: x\r\n\r\n")
    assert await _closed(reader)
    await asyncio.sleep(0.05)
    gc.collect()  # a task whose exception was never retrieved reports it when collected
    loop.set_exception_handler(None)
    assert failures == [] and not server.connections


async def test_connections_past_the_cap_are_refused(server: HttpServer) -> None:
    held = [await _open(server) for _ in range(8)]
    await asyncio.sleep(0.05)
    reader, _ = await _open(server)
    answer = await asyncio.wait_for(reader.read(), 5)
    assert answer.startswith(b"HTTP/1.1 503 Service Unavailable") and b"Retry-After: 1" in answer
    for _, writer in held:
        writer.close()


async def test_a_shutdown_lets_requests_in_flight_end_and_closes_idle_connections(server: HttpServer) -> None:
    busy_reader, busy = await _open(server)
    idle_reader, idle = await _open(server)
    idle.write(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
    await _response(idle_reader)
    busy.write(b"GET /echo?sleep=0.3 HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.sleep(0.05)
    server.stop_listening()
    assert await _closed(idle_reader)
    with pytest.raises(OSError):
        await _open(server)
    await server.finish(2)
    status, headers, body = await _response(busy_reader)
    assert body == b"GET /echo " and headers["connection"] == "close" and await _closed(busy_reader)


async def test_an_upgrade_is_not_switched_to_the_request_is_answered_and_the_connection_closed(server: HttpServer) -> None:
    reader, writer = await _open(server)
    writer.write(
        b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n"
    )
    status, headers, body = await _response(reader)
    assert status == b"HTTP/1.1 200 OK" and body == b"GET /echo " and headers["connection"] == "close"
    assert await _closed(reader)


def test_responses_carry_the_type_and_length_they_are_given() -> None:
    made = web.json_response({"a": "é"}, status=201, headers={"X-A": "b"})
    assert (made.status, made.body, made.headers["Content-Type"], made.headers["X-A"]) == (
        201,
        b'{"a":"\xc3\xa9"}',
        "application/json; charset=utf-8",
        "b",
    )
    assert (
        web.Response(text="hé").headers["Content-Type"] == "text/plain; charset=utf-8"
        and web.Response(text="hé").body == b"h\xc3\xa9"
    )
    assert web.Response(text="x", content_type="text/html").headers["Content-Type"] == "text/html; charset=utf-8"
    assert web.Response(body=b"x").headers["Content-Type"] == "application/octet-stream"
    assert web.Response(body=b"x", content_type="application/json").headers["Content-Type"] == "application/json"
    assert web.Response(body=b"x", headers={"content-type": "image/png"}).headers["Content-Type"] == "image/png"
    empty = web.Response(status=204)
    assert empty.body == b"" and "Content-Type" not in empty.headers and not empty.prepared


async def test_a_failing_handler_is_a_500_and_the_connection_goes_on(server: HttpServer) -> None:
    reader, writer = await _open(server)
    writer.write(b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\nGET /ec%68o HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = await _response(reader)
    assert (status, body, headers["content-type"]) == (
        b"HTTP/1.1 500 Internal Server Error",
        b"Internal gateway error",
        "text/plain; charset=utf-8",
    )
    assert (await _response(reader))[2] == b"GET /echo ", "a percent-encoded path is routed as decoded"
    writer.write(b"GET /unusual?status=599 HTTP/1.1\r\nHost: x\r\n\r\nGET /unusual HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await _response(reader))[:3:2] == (b"HTTP/1.1 599 Unknown", b"")
    status, headers, _ = await _response(reader)
    assert status == b"HTTP/1.1 204 No Content" and headers["content-length"] == "0"
    writer.write(b"GET /unusual?close=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = await _response(reader)
    assert body == b"bye" and headers["connection"] == "close" and await _closed(reader)


async def test_a_body_over_the_limit_is_refused_by_read(server: HttpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("anygate.server.web.MAX_BODY_BYTES", 1000)
    reader, writer = await _open(server)
    for size, answer in ((1000, b"POST /echo " + b"a" * 1000), (1001, b"too large")):
        writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%b" % (size, b"a" * size))
        assert (await _response(reader))[2] == answer
    writer.close()


async def test_a_keep_alive_connection_outlives_sweeps_but_not_slow_headers_on_its_next_request(server: HttpServer) -> None:
    reader, writer = await _open(server)
    writer.write(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
    await _response(reader)
    await asyncio.sleep(0.7)  # several sweeps: idle, yet within the keep-alive time
    writer.write(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await _response(reader))[2] == b"GET /echo "
    writer.write(b"GET /echo HTTP/1.1\r\nHo")  # the next request's headers, then silence
    answer = await asyncio.wait_for(reader.read(), 3)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout")


async def test_a_client_that_leaves_mid_body_is_seen_by_the_reader(server: HttpServer) -> None:
    reader, writer = await _open(server)
    writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npart")
    await asyncio.sleep(0.1)
    writer.close()
    for _ in range(40):
        if EVENTS:
            break
        await asyncio.sleep(0.05)
    assert EVENTS == ["body cut off"]
