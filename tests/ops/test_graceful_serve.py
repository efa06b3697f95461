"""`taspa serve` on SIGTERM: it stops accepting new connections, finishes the request in
flight (here one whose body is still arriving), then exits as stopped by SIGTERM."""

from __future__ import annotations

import signal
import socket
import time

import pytest

from .proc import free_port, operator_env, start, taspa, wait_http

pytestmark = pytest.mark.slow


def test_sigterm_finishes_the_request_in_flight_and_refuses_new_ones(tmp_path):
    env = operator_env(tmp_path, TASPA_SHUTDOWN_GRACE_SECONDS="20")
    assert taspa(env, "migrate", "-v0").returncode == 0
    port = free_port()
    server = start(env, "serve", "--no-worker", "--addr", f"127.0.0.1:{port}", log=tmp_path / "log")
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        body = b'{"code": "x", "name": "y", "level": "district", "region": "z"}'
        client = socket.create_connection(("127.0.0.1", port), timeout=30)
        client.sendall(
            b"POST /api/v1/courts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:10]
        )
        time.sleep(0.5)
        server.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        with pytest.raises(OSError):  # no longer accepting
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        client.sendall(body[10:])  # the request in flight completes
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
        client.close()
        status = answer.split(b"\r\n", 1)[0]
        assert status.startswith(b"HTTP/1.1 401") or status.startswith(b"HTTP/1.1 403"), answer
        assert b'"error"' in answer  # the contract's error shape: a real answer, not a cut
        # uvicorn ends by re-raising the signal it handled: "stopped by SIGTERM", cleanly.
        assert server.wait(30) in (0, -signal.SIGTERM)
        assert "Traceback" not in (tmp_path / "log").read_text()
    finally:
        if server.poll() is None:
            server.kill()
