"""Many open streams at once, and a client that stops reading: anygate's memory and the others' pace.

Starts a dripping OpenAI-style upstream (20 chunks, one every DRIP seconds) and `anygate serve` in
front of it, then: opens STREAMS concurrent streamed chat calls (twice, to see whether memory comes
back down), and runs a batch of normal streams while one client reads nothing for the whole time.
Prints RSS before, at the peak and after each wave, and the completion times. Run from the project
root: `.venv/bin/python bench/streams.py` (env: STREAMS=1000, DRIP=0.25).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

STREAMS = int(os.environ.get("STREAMS", "1000"))
DRIP = float(os.environ.get("DRIP", "0.25"))
CHUNKS = 20
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


FLOOD_CHUNKS, FLOOD_PIECE = 200, 64 * 1024
flooded = [0]  # bytes the flood upstream got out so far


async def drip(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    base = {"id": "chatcmpl-drip", "object": "chat.completion.chunk", "created": 1, "model": body["model"]}
    if body["model"] == "flood-up":  # as fast as the connection takes it: 12.5 MB
        choice = {"index": 0, "delta": {"content": "x" * FLOOD_PIECE}, "finish_reason": None}
        event = b"data: " + json.dumps({**base, "choices": [choice]}).encode() + b"\n\n"
        try:
            for _ in range(FLOOD_CHUNKS):
                await response.write(event)
                flooded[0] += len(event)
        except ConnectionError:
            pass  # the gateway gave up the stream when its client left
        return response
    for i in range(CHUNKS):
        choice = {"index": 0, "delta": {"content": f"piece {i} " * 8}, "finish_reason": None}
        await response.write(b"data: " + json.dumps({**base, "choices": [choice]}).encode() + b"\n\n")
        await asyncio.sleep(DRIP)
    usage = {"prompt_tokens": 10, "completion_tokens": CHUNKS * 16, "total_tokens": 10 + CHUNKS * 16}
    await response.write(b"data: " + json.dumps({**base, "choices": [], "usage": usage}).encode() + b"\n\ndata: [DONE]\n\n")
    return response


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def one_stream(session: aiohttp.ClientSession, url: str, key: str) -> float:
    started = time.perf_counter()
    body = {"model": "drip", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    async with session.post(url, json=body, headers={"Authorization": f"Bearer {key}"}) as resp:
        assert resp.status == 200, await resp.text()
        async for _ in resp.content.iter_any():
            pass
    return time.perf_counter() - started


async def stalled_stream(url: str, key: str, hold: float) -> None:
    """A client that asks for a 12.5 MB stream and then reads nothing for `hold` seconds."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    body = json.dumps({"model": "flood", "messages": [{"role": "user", "content": "hi"}], "stream": True}).encode()
    head = f"POST /openai/v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    writer.write(head.encode() + body)
    await writer.drain()
    await asyncio.sleep(hold)
    writer.close()


async def wave(url: str, key: str, pid: int, count: int) -> tuple[float, list[float]]:
    peak = 0.0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=600)) as session:
        tasks = [asyncio.create_task(one_stream(session, url, key)) for _ in range(count)]
        while not all(t.done() for t in tasks):
            peak = max(peak, rss_mb(pid))
            await asyncio.sleep(0.2)
        return peak, [t.result() for t in tasks]


async def main() -> None:
    upstream_port, gateway_port = free_port(), free_port()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", drip)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", upstream_port, backlog=4096).start()
    work = Path(tempfile.mkdtemp(prefix="anygate-streams-"))
    config = work / "anygate.yaml"
    config.write_text(
        f"database: sqlite:///{work}/anygate.db\n"
        f"providers:\n  drip: {{type: openai, base_url: 'http://127.0.0.1:{upstream_port}/v1', api_key: none}}\n"
        "models:\n  drip: [{provider: drip, model: drip-up}]\n  flood: [{provider: drip, model: flood-up}]\n"
    )
    anygate = str(ROOT / ".venv/bin/anygate")
    key = json.loads(
        subprocess.run(
            [anygate, "keys", "create", "--config", str(config), "--name", "b", "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )["key"]
    proc = subprocess.Popen(
        [anygate, "serve", "--config", str(config), "--port", str(gateway_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{gateway_port}/openai/v1/chat/completions"
    try:
        async with aiohttp.ClientSession() as probe:
            for _ in range(100):
                try:
                    async with probe.get(f"http://127.0.0.1:{gateway_port}/health"):
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
        idle = rss_mb(proc.pid)
        print(f"{STREAMS} concurrent streams of {CHUNKS} chunks, one every {DRIP} s (each ~{CHUNKS * DRIP:.0f} s)")
        print(f"anygate RSS idle: {idle:.0f} MB")
        for n in (1, 2):
            peak, times = await wave(url, key, proc.pid, STREAMS)
            await asyncio.sleep(2)
            print(
                f"wave {n}: RSS peak {peak:.0f} MB, after {rss_mb(proc.pid):.0f} MB; "
                f"stream time median {statistics.median(times):.2f} s, max {max(times):.2f} s"
            )
        before = rss_mb(proc.pid)
        stalled = asyncio.create_task(stalled_stream(url, key, CHUNKS * DRIP + 5))
        await asyncio.sleep(0.5)
        _, times = await wave(url, key, proc.pid, 100)
        print(
            f"100 streams beside one client that reads nothing of a 12.5 MB stream: median {statistics.median(times):.2f} s, "
            f"max {max(times):.2f} s (a stream alone takes {CHUNKS * DRIP:.2f} s)"
        )
        print(
            f"meanwhile the upstream got {flooded[0] / 2**20:.1f} of {FLOOD_CHUNKS * FLOOD_PIECE / 2**20:.1f} MB out "
            f"(the rest waits on the client: back-pressure), anygate RSS {before:.0f} -> {rss_mb(proc.pid):.0f} MB"
        )
        await stalled
        print(f"anygate RSS at the end: {rss_mb(proc.pid):.0f} MB")
    finally:
        proc.terminate()
        proc.wait(30)
        await runner.cleanup()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
