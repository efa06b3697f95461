"""Helpers for the sealing tests (demo PKI, captures with their journal, a local TSA).

A module of its own, not the conftest: test files import these by name, and ``conftest`` is
ambiguous when several test folders are collected in one run."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import tsp

from taspa.sealing import democa
from taspa.sealing.hashing import CHAIN_GENESIS, chain_link
from taspa.sealing.layout import SealedFiles
from taspa.sealing.manifest import build_manifest, certificate_summary
from taspa.sealing.seal import recording_file_name, seal_recording
from taspa.sealing.signing import Pkcs12Signer
from taspa.sealing.tools import ToolRun, run_tool

PASSWORD = "secret-pin"


@dataclass
class Pki:
    ca: democa.DemoCA
    other_ca: democa.DemoCA
    ca_pem: Path
    other_ca_pem: Path

    def p12(self, key_type: str = "ec-p256", *, ca: democa.DemoCA | None = None, **kw) -> bytes:
        return democa.issue_p12(
            ca or self.ca,
            common_name=kw.pop("common_name", "Айгүл Жұмабаева"),
            password=kw.pop("password", PASSWORD),
            key_type=key_type,
            **kw,
        )

    def signer(self, key_type: str = "ec-p256", **kw) -> Pkcs12Signer:
        return Pkcs12Signer(self.p12(key_type, **kw), PASSWORD)

    def expired_p12(self, key_type: str = "ec-p256") -> bytes:
        now = datetime.now(UTC)
        return self.p12(
            key_type, not_before=now - timedelta(days=400), not_after=now - timedelta(days=1)
        )


@dataclass
class Capture:
    """What the capture engine hands over at stop (a CaptureResult as a dict) and its journal."""

    result: dict
    journal: Path


PIECE = 65_536


def make_capture(directory: Path, size: int = 1_000_000, seed: int = 1) -> Capture:
    """A fake .ts of ``size`` bytes cut into pieces, with its hash chain journal."""
    data = hashlib.shake_256(seed.to_bytes(4, "big")).digest(size)
    media = directory / "capture.ts"
    media.write_bytes(data)
    head, lines = CHAIN_GENESIS, []
    for index, offset in enumerate(range(0, size, PIECE)):
        piece = data[offset : offset + PIECE]
        sha = hashlib.sha256(piece).hexdigest()
        head = chain_link(head, sha)
        lines.append(
            json.dumps(
                {
                    "index": index,
                    "offset": offset,
                    "length": len(piece),
                    "sha256": sha,
                    "chain": head,
                }
            )
        )
    journal = directory / "capture.journal.jsonl"
    journal.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Capture(
        result={
            "media_path": str(media),
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": size,
            "duration_s": 12.5,
            "chain_head": head,
            "pieces": len(lines),
            "gaps": [],
            "started_at": "2024-05-14T04:00:00+00:00",
            "container": "mpegts",
        },
        journal=journal,
    )


def manifest_for(capture: Capture, signer, name: str) -> dict:
    return build_manifest(
        file_name=name,
        result=capture.result,
        hearing={
            "id": 7,
            "court_code": "court-a",
            "court_name": "Бостандық аудандық соты",
            "case_number": "2-1234/2024",
            "case_kind": "civil",
            "instance": "first",
            "closed": False,
            "scheduled_at": "2024-05-14T04:00:00+00:00",
        },
        secretary={
            "name": "Айгүл Жұмабаева",
            "username": "secretary-a",
            "certificate": certificate_summary(signer.certificate),
        },
        stopped_at="2024-05-14T04:00:12+00:00",
        marks=[{"at": 1.5, "speaker": "Ерлан Сәтбаев", "role": "judge"}],
        pauses=[{"at": 5.0, "resumed_at": 7.0, "reason": "recess"}],
        incidents=[],
    )


def seal(directory: Path, signer, *, size: int = 1_000_000, timestamper=None) -> SealedFiles:
    capture = make_capture(directory, size)
    name = recording_file_name("court-a", "2-1234/2024", datetime(2024, 5, 14), 7, "ts")
    return seal_recording(
        result_like=capture.result,
        manifest=manifest_for(capture, signer, name),
        signer=signer,
        out_dir=directory / "sealed",
        journal_path=capture.journal,
        timestamper=timestamper,
    )


def openssl_verify(content: Path, signature: Path, ca_pem: Path) -> ToolRun:
    """The exact check anyone can run without Taspa."""
    return run_tool(
        [
            "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", signature,
            "-content", content, "-CAfile", ca_pem, "-purpose", "any", "-out", "/dev/null",
        ],
        timeout=60,
    )  # fmt: skip


class LocalTsa:
    """A real RFC 3161 service over HTTP on a loopback port: pyHanko's ``DummyTimeStamper``
    signing as a test TSA behind ``http.server``. ``stop()`` takes it down (connections are
    refused), ``start()`` brings it back on the same port, ``failing`` makes it answer 503."""

    def __init__(self, tsa: democa.DemoTsa) -> None:
        self.tsa = tsa
        self.timestamper = tsa.timestamper()
        self.requests = 0
        self.failing = False
        self.port = 0
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tsa"

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        tsa = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                tsa.requests += 1
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if tsa.failing or self.headers.get("Content-Type") != "application/timestamp-query":
                    self.send_error(503)
                    return
                reply = tsa.timestamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        return Handler

    def start(self) -> LocalTsa:
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None
