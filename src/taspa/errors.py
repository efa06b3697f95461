"""Errors every adapter (API, CLI, web) turns into the same answer: a code and a human text.

A refusal's text is an English message id (STYLE: the interface speaks Kazakh and Russian
first): ``detail`` translates it into the language active where it is shown — the web page's,
the API caller's (its account's or Accept-Language) — when it is read, not when it is raised.
Values go in as named placeholders, never into the message id itself:

    raise InvalidInput("too_many", _("At most %(count)s participants."), {"count": 50})

so that ``makemessages`` finds the message and the Kazakh and Russian catalogues can hold it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext, gettext_noop

YOU_MAY_NOT = gettext_noop("You may not do this.")
NOT_FOUND = gettext_noop("Not found.")


def translated(message: Any, params: Mapping[str, Any] | None = None) -> str:
    """``message`` (an English msgid, lazy or not) in the active language, with ``params``."""
    text = str(message)
    if text:  # (gettext("") is the catalogue's header)
        text = gettext(text)
    if params:
        try:
            return text % dict(params)
        except (KeyError, ValueError, TypeError):  # a catalogue's placeholder typo: say it all
            return str(message) % dict(params)
    return text


class DomainError(Exception):
    """A refusal with a stable machine code (CONTRACT.md error shape) and an explanation.

    ``detail`` is ``message % params`` in the active language; ``english`` the same in English
    (for logs and the audit trail's readers, whatever the actor's language was), followed by
    ``technical``: a library's or a program's own words (ffmpeg, OpenSSL, the OS), kept for the
    staff who look into it and never part of ``detail``, which a participant may read."""

    status = 422

    def __init__(
        self,
        code: str,
        detail: Any,
        params: Mapping[str, Any] | None = None,
        technical: object = "",
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.message = detail
        self.params: dict[str, Any] = dict(params or {})
        self.technical = str(technical or "")

    @property
    def detail(self) -> str:
        return translated(self.message, self.params)

    @detail.setter
    def detail(self, value: Any) -> None:
        self.message, self.params = value, {}

    @property
    def english(self) -> str:
        from django.utils import translation

        with translation.override("en"):
            text = self.detail
        return f"{text} ({self.technical})" if self.technical else text

    def __str__(self) -> str:
        return self.detail


class InvalidInput(DomainError):
    """The request names something that does not exist or does not fit (HTTP 422)."""


class RuleRefusal(DomainError):
    """The regulation forbids it; ``code`` names the rule (e.g. ``closed_hearing_no_copy``)."""


class Forbidden(DomainError):
    status = 403

    def __init__(
        self,
        detail: Any = YOU_MAY_NOT,
        code: str = "forbidden",
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(code, detail, params)


class NotFound(DomainError):
    status = 404

    def __init__(
        self,
        detail: Any = NOT_FOUND,
        code: str = "not_found",
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(code, detail, params)


class Conflict(DomainError):
    status = 409


class PayloadTooLarge(DomainError):
    """The request's body is larger than the server takes for it (HTTP 413)."""

    status = 413


class Gone(DomainError):
    """The thing existed and was lawfully removed (e.g. moved to the archive, R27)."""

    status = 410
