"""Send exactly COUNT POSTs at CONCURRENCY connections: `drive.py URL BODY_FILE KEY COUNT CONCURRENCY`."""

import asyncio
import sys
from pathlib import Path

import aiohttp


async def main(url: str, body_file: str, key: str, count: int, concurrency: int) -> None:
    body = Path(body_file).read_bytes()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    left, failed = count, 0
    async with aiohttp.ClientSession(headers=headers) as session:

        async def worker() -> None:
            nonlocal left, failed
            while left > 0:
                left -= 1
                async with session.post(url, data=body) as resp:
                    await resp.read()
                    failed += resp.status != 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    if failed:
        sys.exit(f"{failed} of {count} requests failed")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])))
