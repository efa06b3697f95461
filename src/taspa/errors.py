"""Errors every adapter (API, CLI, web) turns into the same answer: a code and a human text."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal with a stable machine code (CONTRACT.md error shape) and an explanation."""

    status = 422

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class InvalidInput(DomainError):
    """The request names something that does not exist or does not fit (HTTP 422)."""


class RuleRefusal(DomainError):
    """The regulation forbids it; ``code`` names the rule (e.g. ``closed_hearing_no_copy``)."""


class Forbidden(DomainError):
    status = 403

    def __init__(self, detail: str = "You may not do this.", code: str = "forbidden") -> None:
        super().__init__(code, detail)


class NotFound(DomainError):
    status = 404

    def __init__(self, detail: str = "Not found.", code: str = "not_found") -> None:
        super().__init__(code, detail)


class Conflict(DomainError):
    status = 409


class PayloadTooLarge(DomainError):
    """The request's body is larger than the server takes for it (HTTP 413)."""

    status = 413


class Gone(DomainError):
    """The thing existed and was lawfully removed (e.g. moved to the archive, R27)."""

    status = 410
