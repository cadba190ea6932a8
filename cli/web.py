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
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Số tiến trình phục vụ (mặc định: số nhân CPU, tối đa 8); 1: một tiến trình.",
        ),
    ] = None,
) -> None:
    import uvicorn

    from scheduler.logs import configure_logging
    from web.app import create_app

    config = settings()
    configure_logging(config.log_format, config.log_level)
    count = workers or default_workers()
    # uvicorn's access log prints query strings (the ICS tokens): the app logs requests itself, without them.
    options = {"host": host, "port": port, "access_log": False, "log_config": None, "proxy_headers": False}
    if count == 1:
        uvicorn.run(warmed(create_app(config)), **options)  # type: ignore[arg-type]
        return
    from store.db import make_engine, upgrade_schema
    from web.config import WebSettings, session_secret

    engine = make_engine(config.effective_database_url)
    upgrade_schema(engine)  # once, here: the workers find the schema current
    engine.dispose()
    import os

    # Each worker counts sign-in failures in its own memory: it keeps 1/N of every limit (web.ratelimit).
    os.environ["NHACVIEC_WEB_LOGIN_LIMIT_SHARES"] = str(count)
    if WebSettings().secret is None:  # one random secret for every worker (a session works on any of them)
        import secrets

        session_secret(WebSettings())  # its warning, once
        os.environ["NHACVIEC_WEB_SECRET"] = secrets.token_urlsafe(32)
    # A worker busy with CPU-bound pages answers uvicorn's health check late (the GIL): allow a minute before it
    # is deemed hung and killed (the default 5 s killed busy workers, and their requests, under load).
    uvicorn.run(
        "cli.web:worker_app",
        factory=True,
        workers=count,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        **options,  # type: ignore[arg-type]
    )


WORKER_HEALTHCHECK_SECONDS = 60


def default_workers() -> int:
    """One worker process per usable core (the pages are CPU-bound), at most 8."""
    import os

    return max(
        1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    )


def worker_app():
    """The app of one worker process of ``nhacviec web --workers N`` (uvicorn imports and calls this)."""
    from scheduler.logs import configure_logging
    from web.app import create_app

    config = settings()
    configure_logging(config.log_format, config.log_level)
    return warmed(create_app(config))


def warmed(app):
    """``app``, its dashboard being prepared in the background (web.routes.dashboard.warm)."""
    from web.routes.dashboard import warm_in_background

    warm_in_background(app.state.ctx)
    return app


def web_server(settings, engine, host: str, port: int):
    """A uvicorn server for the web admin, to run inside another asyncio program (``nhacviec run --web``)."""
    import uvicorn

    from web.app import create_app

    app = warmed(create_app(settings, engine))
    return uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, access_log=False, log_config=None, proxy_headers=False)
    )


async def serve_until(server, stop) -> None:
    """Serve until ``stop`` is set, then let uvicorn finish the requests in flight."""
    import asyncio

    serving = asyncio.ensure_future(server.serve())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopping.cancel()
    await serving
