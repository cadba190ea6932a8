"""``nhacviec web``: the web admin (FastAPI under uvicorn)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import settings


def web(
    host: Annotated[
        str, typer.Option("--host", help="Địa chỉ lắng nghe (mặc định chỉ máy này).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Cổng.")] = 8000,
) -> None:
    import uvicorn

    from scheduler.logs import configure_logging
    from web.app import create_app

    config = settings()
    configure_logging(config.log_format, config.log_level)
    app = create_app(config)
    # uvicorn's access log prints query strings (the ICS tokens): the app logs requests itself, without them.
    uvicorn.run(app, host=host, port=port, access_log=False, log_config=None, proxy_headers=True)


def web_server(settings, engine, host: str, port: int):  # type: ignore[no-untyped-def]
    """A uvicorn server for the web admin, to run inside another asyncio program (``nhacviec run --web``)."""
    import uvicorn

    from web.app import create_app

    app = create_app(settings, engine)
    return uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, access_log=False, log_config=None, proxy_headers=True)
    )


async def serve_until(server, stop) -> None:  # type: ignore[no-untyped-def]
    """Serve until ``stop`` is set, then let uvicorn finish the requests in flight."""
    import asyncio

    serving = asyncio.ensure_future(server.serve())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopping.cancel()
    await serving
