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
