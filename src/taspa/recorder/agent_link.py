"""The agent's HTTP link to the court server: stdlib ``http.client``, short timeouts, and two
kinds of failure the agent treats differently — ``Unreachable`` (try again later, keep
recording) and ``Rejected`` (the server answered no: re-read its offsets or give up)."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlencode, urlsplit


class Unreachable(Exception):
    """No answer from the court server (down, unreachable, or a 5xx while it restarts)."""


class Rejected(Exception):
    """The server answered with a 4xx: ``code`` is its CONTRACT error code."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status, self.code = status, code


class AgentLink:
    """Requests to ``/api/v1/agent/…`` for one courtroom, authenticated with the agent token."""

    def __init__(self, server: str, token: str, courtroom: int, *, timeout: float = 5.0) -> None:
        parts = urlsplit(server)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--server {server!r}: expected http(s)://HOST[:PORT]")
        self.server, self.parts = server, parts
        self.token, self.courtroom, self.timeout = token, courtroom, timeout

    def _path(self, path: str) -> str:
        base = self.parts.path.rstrip("/")
        if path == "time":
            return f"{base}/api/v1/agent/time"
        return f"{base}/api/v1/agent/courtrooms/{self.courtroom}/{path}"

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> Any:
        kind = (
            http.client.HTTPSConnection
            if self.parts.scheme == "https"
            else http.client.HTTPConnection
        )
        connection = kind(self.parts.hostname, self.parts.port, timeout=self.timeout)
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            status, payload = response.status, response.read()
        except (TimeoutError, OSError, http.client.HTTPException) as error:
            raise Unreachable(f"{self.server}: {error}") from error
        finally:
            connection.close()
        return self._answer(status, payload)

    def _answer(self, status: int, payload: bytes) -> Any:
        if status >= 500:
            raise Unreachable(f"{self.server} answered {status}")
        try:
            data = json.loads(payload or b"{}")
        except ValueError as error:
            raise Unreachable(f"{self.server}: not a Taspa server ({status})") from error
        if status >= 400:
            raise Rejected(status, data.get("error", "error"), data.get("detail", ""))
        return data

    def get(self, path: str, **query: Any) -> Any:
        suffix = f"?{urlencode(query)}" if query else ""
        return self.request("GET", self._path(path) + suffix)

    def post(self, path: str, data: dict[str, Any]) -> Any:
        body = json.dumps(data).encode("utf-8")
        return self.request("POST", self._path(path), body, {"Content-Type": "application/json"})

    def put_chunk(self, path: str, start: int, data: bytes) -> int:
        """Append ``data`` at ``start``; the offset the server holds afterwards."""
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Range": f"bytes {start}-{start + len(data) - 1}/*",
        }
        return int(self.request("PUT", self._path(path), data, headers)["offset"])

    def get_time(self) -> float:
        return float(self.get("time")["now"])
