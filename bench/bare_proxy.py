"""The floor for any Python gateway: an aiohttp pass-through proxy with one pooled client and no logic."""

import sys

import aiohttp
from aiohttp import web

UPSTREAM = sys.argv[1]
PORT = int(sys.argv[2])


async def on_startup(app: web.Application) -> None:
    app["client"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


async def handle(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer x"}
    async with request.app["client"].post(UPSTREAM + request.path, data=body, headers=headers) as up:
        if up.content_type == "text/event-stream":
            resp = web.StreamResponse(status=up.status, headers={"Content-Type": "text/event-stream"})
            await resp.prepare(request)
            async for chunk in up.content.iter_any():
                await resp.write(chunk)
            await resp.write_eof()
            return resp
        return web.Response(body=await up.read(), status=up.status, content_type=up.content_type)


if __name__ == "__main__":
    import uvloop

    uvloop.install()
    app = web.Application()
    app.on_startup.append(on_startup)
    app.router.add_post("/{tail:.*}", handle)
    web.run_app(app, host="127.0.0.1", port=PORT, print=None, access_log=None)
