"""Running the server process: the ASGI app under uvicorn."""

from __future__ import annotations

from collections.abc import Callable


def parse_addr(addr: str) -> tuple[str, int]:
    host, _, port_text = addr.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"--addr {addr!r}: expected HOST:PORT, e.g. 127.0.0.1:8000")
    return host, int(port_text)


def serve(
    host: str,
    port: int,
    *,
    log: Callable[[str], None] = print,
    after: Callable[[], None] | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT: stop accepting, finish what is in flight for at most
    ``TASPA_SHUTDOWN_GRACE_SECONDS``, run ``after`` (the worker's hand-over), then exit."""
    import asyncio

    import uvicorn
    from django.conf import settings

    from taspa.asgi import application

    class Server(uvicorn.Server):
        async def shutdown(self, sockets=None) -> None:
            await super().shutdown(sockets)
            # Before uvicorn re-raises the signal, which ends the process at once.
            if after is not None:
                await asyncio.to_thread(after)

    log(f"Taspa is serving on http://{host}:{port}/ (Ctrl-C stops it)")
    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=settings.TASPA_SHUTDOWN_GRACE_SECONDS,
    )
    Server(config).run()
