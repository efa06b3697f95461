"""The input limits every adapter shares: the API's schemas, the web forms and the actions.

One rule, one place: how long a text a person types may be, that it holds no U+0000
(PostgreSQL can store it neither in text nor in JSON), and which dates are sane for a court's
calendar. The actions call ``require_text`` and ``require_moment`` so that the API, the web
and the command line refuse the same input with the same code; the forms use the same numbers
so the message appears next to the field before anything is sent to an action.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from django.utils.translation import gettext as _

from taspa.errors import InvalidInput

log = logging.getLogger("taspa.limits")

# Lengths of what people type (characters).
INCIDENT_DETAIL = 4000  # the reason that goes into the minutes and the act (R9, R17)
FORWARD_NOTE = 2000  # the administrator's note to the regional staff (R9)
VISUAL_CHECK_NOTE = 2000  # what is wrong with a medium (R29)
REVIEW = 100  # which review a visual check followed
PERSON_NAME = 255  # a participant's name
PROCEDURAL_ROLE = 64  # plaintiff, witness…
MOUNT_PATH = 500  # where a medium is mounted on the court server
PARTICIPANTS = 100  # participants of one hearing
PREFLIGHT_OVERRIDE = 2000  # why recording starts without an equipment check (R8, audited)
# Courts, rooms and people, as the API's schemas take them (courts.api, api.users).
COURT_CODE = 32
COURT_NAME = 255
REGION = 128
COURTROOM_NAME = 255
SOURCE_INPUT = 1000  # an ffmpeg input: a device, an RTSP address, a lavfi graph
SOURCE_LABEL = 100  # what the microphone is called on the console ("Судья")
SOURCES = 16  # capture sources of one courtroom
USERNAME = 150
FULL_NAME = 255
EMAIL = 254
PASSWORD = 128

# A court's calendar: hearings, judgments and destruction dates fall within these years.
FIRST_YEAR = 2000
LAST_YEAR = 2100


def text_problem(value: str, max_length: int) -> str | None:
    """Why ``value`` cannot be taken (in the user's language), or None when it can."""
    if "\x00" in value:
        return _("The text contains an invisible null character: remove it.")
    if len(value) > max_length:
        return _("At most %(limit)d characters (this text has %(length)d).") % {
            "limit": max_length,
            "length": len(value),
        }
    return None


def require_text(value: str, *, field: str, max_length: int) -> str:
    """``value`` unchanged, or ``InvalidInput`` (422) saying what is wrong with ``field``."""
    problem = text_problem(value, max_length)
    if problem is None:
        return value
    code = "nul_character" if "\x00" in value else "text_too_long"
    # The text is for a person (shown by the field, in their language); the log names the field.
    log.info("input refused: %s %s", field, code)
    raise InvalidInput(code, problem)


def moment_problem(moment: date | datetime) -> str | None:
    """Why a date is outside the court's calendar, or None when it is within it."""
    if FIRST_YEAR <= moment.year <= LAST_YEAR:
        return None
    return _("Give a date between the years %(first)d and %(last)d.") % {
        "first": FIRST_YEAR,
        "last": LAST_YEAR,
    }


def require_moment(moment: date | datetime, *, field: str) -> date | datetime:
    """``moment`` unchanged, or ``InvalidInput`` (422, ``date_out_of_range``)."""
    problem = moment_problem(moment)
    if problem is None:
        return moment
    log.info("input refused: %s date_out_of_range", field)
    raise InvalidInput("date_out_of_range", problem)
