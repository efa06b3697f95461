"""A real test PKI's revocation service on loopback: OpenSSL's OCSP responder (``openssl ocsp
-index``, run for each request behind an HTTP server on 127.0.0.1, so it reads the CA index as it
stands and listens on loopback only) and the CA's CRL over HTTP. Certificates issued through
``issue`` name both (authorityInfoAccess, cRLDistributionPoints), as NCA certificates do."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from taspa.sealing import democa

PASSWORD = "pin-1234"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _index_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%y%m%d%H%M%SZ")


class RevocationService:
    """The OCSP responder and the CRL, both served by ``http.server`` on 127.0.0.1; ``stop()``
    takes both down (connections refused), ``start()`` brings them back on the same ports."""

    def __init__(self, directory: Path, ca: democa.DemoCA) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.ca = ca
        self.ca_pem = directory / "ca.pem"
        self.ca_pem.write_bytes(ca.pem)
        self.ca_key = directory / "ca.key"
        self.ca_key.write_bytes(
            ca.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.index = directory / "index.txt"
        self.index.write_text("")
        self.lines: dict[int, str] = {}
        self.revoked: dict[int, datetime] = {}
        self.crl_der = b""
        self.ocsp_port = _free_port()
        self.crl_port = _free_port()
        self.ocsp_requests = 0
        self._ocsp_server: http.server.ThreadingHTTPServer | None = None
        self._crl_server: http.server.ThreadingHTTPServer | None = None
        self._write()

    @property
    def ocsp_url(self) -> str:
        return f"http://127.0.0.1:{self.ocsp_port}/"

    @property
    def crl_url(self) -> str:
        return f"http://127.0.0.1:{self.crl_port}/ca.crl"

    # --- the CA's records --------------------------------------------------------------------
    def issue(self, common_name: str, *, ocsp: bool = True, crl: bool = True, **kw) -> bytes:
        """A PKCS#12 key (password ``PASSWORD``) whose certificate the index knows as valid."""
        p12 = democa.issue_p12(
            self.ca,
            common_name=common_name,
            password=PASSWORD,
            ocsp_url=self.ocsp_url if ocsp else None,
            crl_url=self.crl_url if crl else None,
            **kw,
        )
        from cryptography.hazmat.primitives.serialization import pkcs12

        cert = pkcs12.load_key_and_certificates(p12, PASSWORD.encode())[1]
        self._line(cert, "V", "")
        self._write()
        return p12

    def revoke(self, p12_or_cert: bytes | x509.Certificate, when: datetime | None = None) -> None:
        """Revoke the certificate as of ``when`` (default now), in the index and the CRL."""
        cert = p12_or_cert if isinstance(p12_or_cert, x509.Certificate) else _cert_of(p12_or_cert)
        when = when or datetime.now(UTC)
        self.revoked[cert.serial_number] = when
        self._line(cert, "R", f"{_index_time(when)},keyCompromise")
        self._write()

    def _line(self, cert: x509.Certificate, status: str, revoked: str) -> None:
        serial = format(cert.serial_number, "X")
        serial = serial if len(serial) % 2 == 0 else "0" + serial
        subject = "/" + "/".join(f"{a.rfc4514_attribute_name}={a.value}" for a in cert.subject)
        expiry = _index_time(cert.not_valid_after_utc)
        self.lines[cert.serial_number] = (
            f"{status}\t{expiry}\t{revoked}\t{serial}\tunknown\t{subject}"
        )

    def _write(self) -> None:
        temp = self.index.with_suffix(".tmp")
        temp.write_text("".join(line + "\n" for line in self.lines.values()))
        os.replace(temp, self.index)
        now = datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.ca.certificate.subject)
            .last_update(now - timedelta(minutes=1))
            .next_update(now + timedelta(days=7))
        )
        for serial, when in self.revoked.items():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
            )
        self.crl_der = builder.sign(self.ca.key, hashes.SHA256()).public_bytes(
            serialization.Encoding.DER
        )

    # --- the services ------------------------------------------------------------------------
    def answer_ocsp(self, request: bytes) -> bytes:
        """OpenSSL's OCSP responder (``openssl ocsp -index``, responder mode) answers one DER
        request from the CA's index as it stands now."""
        self.ocsp_requests += 1
        with tempfile.TemporaryDirectory(dir=self.directory) as temp:
            request_path, response_path = Path(temp) / "req.der", Path(temp) / "resp.der"
            request_path.write_bytes(request)
            subprocess.run(
                [
                    "openssl", "ocsp", "-index", str(self.index), "-CA", str(self.ca_pem),
                    "-rsigner", str(self.ca_pem), "-rkey", str(self.ca_key), "-ndays", "1",
                    "-reqin", str(request_path), "-respout", str(response_path),
                ],
                capture_output=True,
                timeout=30,
                check=True,
            )  # fmt: skip
            return response_path.read_bytes()

    def start(self, *, ocsp: bool = True, crl: bool = True) -> RevocationService:
        if ocsp and self._ocsp_server is None:
            self._ocsp_server = self._serve(self.ocsp_port, self._ocsp_handler())
        if crl and self._crl_server is None:
            self._crl_server = self._serve(self.crl_port, self._crl_handler())
        return self

    @staticmethod
    def _serve(port: int, handler) -> http.server.ThreadingHTTPServer:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def stop(self) -> None:
        """Both services down: connections to their ports are refused."""
        for name in ("_ocsp_server", "_crl_server"):
            server = getattr(self, name)
            if server is not None:
                server.shutdown()
                server.server_close()
                setattr(self, name, None)

    def _ocsp_handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    body = service.answer_ocsp(request)
                except subprocess.CalledProcessError:
                    self.send_error(400)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        return Handler

    def _crl_handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = service.crl_der
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        return Handler


def _cert_of(p12: bytes) -> x509.Certificate:
    from cryptography.hazmat.primitives.serialization import pkcs12

    return pkcs12.load_key_and_certificates(p12, PASSWORD.encode())[1]
