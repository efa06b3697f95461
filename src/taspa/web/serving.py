"""Running the server process: the ASGI app under uvicorn."""

from __future__ import annotations

from collections.abc import Callable


def parse_addr(addr: str) -> tuple[str, int]:
    host, _, port_text = addr.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"--addr {addr!r}: expected HOST:PORT, e.g. 127.0.0.1:8000")
    return host, int(port_text)


def serve(host: str, port: int, *, log: Callable[[str], None] = print) -> None:
    import uvicorn

    from taspa.asgi import application

    log(f"Taspa is serving on http://{host}:{port}/ (Ctrl-C stops it)")
    from django.conf import settings

    # SIGTERM: stop accepting, finish what is in flight for at most the grace period.
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=settings.TASPA_SHUTDOWN_GRACE_SECONDS,
    )
