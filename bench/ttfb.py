"""Median time to first byte of streamed responses, one request at a time: `ttfb.py URL BODY_FILE KEY COUNT`."""

import asyncio
import statistics
import sys
import time
from pathlib import Path

import aiohttp


async def main(url: str, body_file: str, key: str, count: int) -> None:
    body = Path(body_file).read_bytes()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    samples = []
    async with aiohttp.ClientSession() as session:
        for i in range(count + 20):
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as resp:
                await resp.content.readany()
                first = time.perf_counter() - started
                await resp.read()
            if i >= 20:  # warm-up
                samples.append(first * 1000)
    print(f"{statistics.median(samples):.3f}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
