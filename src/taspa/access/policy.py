"""The access rules of Chapter 4 (R28–R35), in one place. Pure: the standard library only.

Who may petition, for what, and what a copy carries:

* R28: persons taking part in a civil, administrative or criminal case, the person against whom
  an administrative-offence case is brought and the other participants in it, and their
  representatives, may review a recording (listen to it / view it in court) on petition.
* R30: representatives of persons held in custody are given that review as well; in civil and
  administrative cases participants get a copy of the AUDIO recording.
* R31: criminal cases: an audio+video copy on a written application (Appendix 1); civil,
  administrative and administrative-offence cases: an audio-only copy (Appendix 2). The
  applicant is warned of liability for misusing personal data and may use the copy only for R2.
* R32: a hearing held in closed session: no copy, review in court only.
* R34: copies within 5 calendar days (criminal), 3 calendar days (administrative offence),
  5 working days (civil, administrative) of the day the petition reached the court; a
  calendar-day term ending on a day off ends on the next working day (the codes' rule).

Disciplinary proceedings (the decision this module makes and docs/adr/0007 explains): R2 lets
a recording serve a disciplinary case, but Chapter 4 grants review and copies only to persons
in civil, administrative, criminal and administrative-offence proceedings. A disciplinary body
obtains a recording by an official request to the court, not by a participant's petition, so
a petition about a disciplinary case is refused (``disciplinary_case_no_access``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from taspa.courts.policy import CaseKind  # pure as well (no Django)


def gettext_noop(message: str) -> str:
    """Marks a refusal's explanation for the translation catalogue (``makemessages`` knows this
    name) while this module stays pure; pages translate it where they show it."""
    return message


class PetitionKind(enum.StrEnum):
    REVIEW = "review"  # R28: listen to / view the recording in court
    COPY = "copy"  # R31: a copy on a medium or through the information service


class Media(enum.StrEnum):
    AUDIO = "audio"
    AUDIO_VIDEO = "audio+video"


class Delivery(enum.StrEnum):
    MEDIUM = "medium"  # on a medium the applicant brings (R33: formatted first)
    ONLINE = "online"  # through the information service


class ApplicantRole(enum.StrEnum):
    """Who the applicant is in the proceedings (R28, R30)."""

    PARTICIPANT = "participant"  # a person taking part in the case (R28)
    REPRESENTATIVE = "representative"  # a participant's representative (R28)
    CUSTODY_REPRESENTATIVE = "custody_representative"  # of a person held in custody (R30)
    OFFENCE_PERSON = "offence_person"  # the person an admin-offence case is brought against (R28)
    OTHER = "other"  # anyone else: the public, the press, another court's party


# Procedural roles people write on a petition, read as the applicant roles of R28.
ROLE_ALIASES: dict[str, ApplicantRole] = {
    **{
        name: ApplicantRole.PARTICIPANT
        for name in (
            "plaintiff", "defendant", "claimant", "respondent", "applicant", "third_party",
            "interested_party", "accused", "defendant_criminal", "convicted", "acquitted",
            "victim", "civil_plaintiff", "civil_defendant", "prosecutor", "private_prosecutor",
        )
    },
    **{
        name: ApplicantRole.REPRESENTATIVE
        for name in ("lawyer", "advocate", "defender", "counsel", "legal_representative")
    },
}  # fmt: skip


def applicant_role(value: str) -> ApplicantRole | None:
    """The R28 role for what an applicant wrote (an R28 role or a procedural role)."""
    value = value.strip().lower()
    try:
        return ApplicantRole(value)
    except ValueError:
        return ROLE_ALIASES.get(value)


class Form(enum.StrEnum):
    APPENDIX_1 = "appendix1"  # audio+video copy, criminal cases (R31)
    APPENDIX_2 = "appendix2"  # audio copy, civil/administrative/admin-offence cases (R31)


# R31: what a copy carries, by case kind, and the application form it is asked for on.
COPY_MEDIA: dict[CaseKind, tuple[Media, Form]] = {
    CaseKind.CRIMINAL: (Media.AUDIO_VIDEO, Form.APPENDIX_1),
    CaseKind.CIVIL: (Media.AUDIO, Form.APPENDIX_2),
    CaseKind.ADMINISTRATIVE: (Media.AUDIO, Form.APPENDIX_2),
    CaseKind.ADMIN_OFFENCE: (Media.AUDIO, Form.APPENDIX_2),
}


@dataclass(frozen=True)
class Decision:
    """The answer to one petition: granted (with the copy's media and form) or refused with a
    code naming the rule; ``offer`` is what the applicant may ask for instead (R32)."""

    granted: bool
    rule: str
    code: str = ""
    explanation: str = ""
    media: Media | None = None
    form: Form | None = None
    offer: PetitionKind | None = None


def _refuse(rule: str, code: str, explanation: str, offer: PetitionKind | None = None) -> Decision:
    return Decision(False, rule, code, explanation, offer=offer)


def decide_petition(
    *, case_kind: CaseKind, closed: bool, kind: PetitionKind, role: ApplicantRole
) -> Decision:
    """Whether a petition of ``kind`` by an applicant in ``role`` is granted (R28–R32)."""
    if case_kind == CaseKind.DISCIPLINARY:
        return _refuse(
            "R28",
            "disciplinary_case_no_access",
            gettext_noop(
                "Review and copies are given only in civil, administrative, criminal and "
                "administrative-offence proceedings; a disciplinary body requests the recording "
                "from the court."
            ),
        )
    if role == ApplicantRole.OTHER:
        return _refuse(
            "R28",
            "applicant_not_entitled",
            gettext_noop(
                "Only persons taking part in the case and their representatives may petition."
            ),
        )
    if role == ApplicantRole.OFFENCE_PERSON and case_kind != CaseKind.ADMIN_OFFENCE:
        return _refuse(
            "R28",
            "applicant_role_not_in_case_kind",
            gettext_noop(
                "A person against whom an administrative-offence case is brought petitions only "
                "in such a case."
            ),
        )
    if kind == PetitionKind.REVIEW:
        return Decision(True, "R32" if closed else "R28")
    if closed:
        return _refuse(
            "R32",
            "closed_hearing_no_copy",
            gettext_noop(
                "The hearing was held in closed session: no copy is given; the recording may be "
                "reviewed in court instead."
            ),
            offer=PetitionKind.REVIEW,
        )
    media, form = COPY_MEDIA[case_kind]
    return Decision(
        True, "R31" if case_kind == CaseKind.CRIMINAL else "R30", media=media, form=form
    )


def acknowledgement_refusal(kind: PetitionKind, acknowledged: bool) -> Decision | None:
    """R31: a copy is issued only to an applicant who acknowledged the personal-data warning."""
    if kind == PetitionKind.COPY and not acknowledged:
        return _refuse(
            "R31",
            "personal_data_warning_not_acknowledged",
            gettext_noop(
                "The applicant must acknowledge the warning about liability for misusing personal "
                "data (article 79 of the Code of Administrative Offences, article 147 of the "
                "Criminal Code) and use the copy only for legal proceedings and for establishing "
                "factual data."
            ),
        )
    return None


# ---------------------------------------------------------------------------------------------
# R34: deadlines


@dataclass(frozen=True)
class WorkCalendar:
    """Kazakhstan's five-day working week: weekends and public holidays are days off, and the
    government's decrees move days off (``extra_days_off``) and make some weekend days working
    days (``working_weekend_days``)."""

    holidays: frozenset[date]
    extra_days_off: frozenset[date] = frozenset()
    working_weekend_days: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_days_off:
            return False
        if day in self.working_weekend_days:
            return True
        return day.weekday() < 5 and day not in self.holidays

    @classmethod
    def of(
        cls,
        holidays: Iterable[date],
        extra_days_off: Iterable[date] = (),
        working_days: Iterable[date] = (),
    ) -> WorkCalendar:
        return cls(frozenset(holidays), frozenset(extra_days_off), frozenset(working_days))


# R34: (count, working days?) by case kind.
DEADLINES: dict[CaseKind, tuple[int, bool]] = {
    CaseKind.CRIMINAL: (5, False),
    CaseKind.ADMIN_OFFENCE: (3, False),
    CaseKind.CIVIL: (5, True),
    CaseKind.ADMINISTRATIVE: (5, True),
}


def due_date(case_kind: CaseKind, received_on: date, calendar: WorkCalendar) -> date | None:
    """The last day to fulfil a petition that reached the court on ``received_on`` (R34).

    Counting starts the day after: criminal +5 calendar days, administrative offence +3
    calendar days, civil and administrative the fifth working day. A calendar-day term that
    ends on a day off ends on the next working day: the Rules follow the procedural codes (п.1),
    and the criminal procedure code and the code of administrative offences both count a term
    whose last day is a day off as ending on the next working day (docs/adr/0011). ``None`` for
    a case kind the regulation sets no term for (disciplinary).
    """
    term = DEADLINES.get(case_kind)
    if term is None:
        return None
    count, working = term
    if not working:
        day = received_on + timedelta(days=count)
        while not calendar.is_working_day(day):  # УПК, КоАП: a day off moves the last day
            day += timedelta(days=1)
        return day
    day = received_on
    while count:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            count -= 1
    return day


class Urgency(enum.StrEnum):
    OVERDUE = "overdue"
    DUE_TODAY = "due_today"
    DUE_TOMORROW = "due_tomorrow"  # R34: the reminder goes out the day before
    LATER = "later"


def urgency(due: date, today: date) -> Urgency:
    if due < today:
        return Urgency.OVERDUE
    if due == today:
        return Urgency.DUE_TODAY
    if due == today + timedelta(days=1):
        return Urgency.DUE_TOMORROW
    return Urgency.LATER


# ---------------------------------------------------------------------------------------------
# Copies: the ffmpeg argument lists (ARCHITECTURE.md: stream copy, no re-encoding)


def audio_only_command(source: str, target: str) -> list[str]:
    """R31: the audio-only copy: every audio stream of the original, stream-copied (bytes of
    the audio packets unchanged), no video, no data streams, same MPEG-TS container."""
    return [
        "ffmpeg", "-nostdin", "-v", "error", "-y", "-i", source,
        "-map", "0:a", "-c", "copy", "-f", "mpegts", target,
    ]  # fmt: skip


# --- the order of a review in court (R28, R29, R35) -------------------------------------------


class ReviewStep(enum.StrEnum):
    HELD = "held"  # R28: the person listened to / viewed the recording at the review station
    MEDIUM_CHECKED = "medium_checked"  # R29: «по окончании ознакомления» staff check the medium
    RECEIPT = "receipt"  # R35: «лицо, ознакомившееся…» signs the mark on the petition


def review_step_refusal(
    step: ReviewStep, *, booked: bool, held: bool, medium_checked: bool
) -> str | None:
    """The code refusing ``step`` now, or None when it may be taken.

    R29 puts the visual check of the medium *after* the review, and R35 has the mark signed by
    the person who has reviewed the recording: so a review is booked, then held, then its medium
    checked, and only then is the receipt signed. Each step is taken once.
    """
    if not booked:
        return "review_not_booked"
    if step is ReviewStep.HELD:
        return "review_already_held" if held else None
    if not held:
        return "review_not_held"
    if step is ReviewStep.MEDIUM_CHECKED:
        return "medium_already_checked" if medium_checked else None
    return None if medium_checked else "medium_not_checked"


def next_review_step(*, held: bool, medium_checked: bool) -> ReviewStep:
    """The step a booked review waits for (what the staff page offers next)."""
    if not held:
        return ReviewStep.HELD
    return ReviewStep.RECEIPT if medium_checked else ReviewStep.MEDIUM_CHECKED


def recording_refusal(*, recorded: bool, online: bool) -> Decision | None:
    """A review or a copy needs a recording (R28, R31). A participant asking online about a
    hearing that has none is told so at once, instead of a petition that can never be met; a
    paper petition is registered as it came and answered by ``refuse_petition`` (R34)."""
    if online and not recorded:
        return _refuse(
            "R17",
            "hearing_not_recorded",
            gettext_noop(
                "This hearing has no recording, so there is nothing to review or copy; the "
                "minutes of the hearing say why it was not recorded."
            ),
        )
    return None


# --- R32 for part of a hearing: closed portions ------------------------------------------------
#
# A court may close part of an open hearing (a witness's intimate details, a state secret, a
# minor's testimony) and reopen it. R32's rule then holds for that part: no copy carries it and
# a participant's online playback never receives it; review in court (R28, R32) and the court's
# own staff still hear everything, and the sealed original is never touched (R19).

Interval = tuple[float, float]
# A moment given for a live portion may lie this far past what has been recorded so far (the
# clocks of the browser and the server), never further.
PORTION_CLOCK_SLACK_S = 2.0

PORTION_RULES: dict[str, str] = {
    "closed_portion_ends_before_start": gettext_noop("A closed session must end after it begins."),
    "closed_portion_overlaps": gettext_noop(
        "This closed session overlaps another one already on record for this hearing."
    ),
    "closed_portion_outside_recording": gettext_noop(
        "A closed session must lie within the hearing's recording."
    ),
    "closed_portion_already_ended": gettext_noop("This closed session has already ended."),
    "closed_portion_superseded": gettext_noop(
        "This closed session was corrected: change its newest version."
    ),
    "closed_portion_decision_missing": gettext_noop(
        "A closed session added after sealing needs the judge's decision (its text)."
    ),
    "closed_hearing_whole": gettext_noop(
        "The whole hearing is held in closed session: no part of it needs closing."
    ),
}


def portion_refusal(
    start: float,
    end: float | None,
    *,
    recorded_s: float | None,
    others: Iterable[tuple[float, float | None]] = (),
) -> str | None:
    """The rule a closed portion ``[start, end)`` (media seconds; ``end`` None: still closed)
    breaks, or None. ``recorded_s`` is how far the recording reaches (its duration once stopped,
    what has been captured so far while live; None: no recording); ``others`` are the hearing's
    portions as they stand (an open one reaches to the end of the recording)."""
    if recorded_s is None or start < 0 or start >= recorded_s:
        return "closed_portion_outside_recording"
    if end is not None and end <= start:
        return "closed_portion_ends_before_start"
    if end is not None and end > recorded_s:
        return "closed_portion_outside_recording"
    infinity = float("inf")
    for other_start, other_end in others:
        if start < (infinity if other_end is None else other_end) and other_start < (
            infinity if end is None else end
        ):
            return "closed_portion_overlaps"
    return None


def merge_intervals(
    portions: Iterable[tuple[float, float | None]], duration_s: float
) -> list[Interval]:
    """The closed intervals of a recording ``duration_s`` long: open-ended portions reach its
    end, everything clamped to ``[0, duration_s]``, overlapping or touching intervals merged,
    sorted by start."""
    clamped = sorted(
        (max(0.0, start), min(duration_s, duration_s if end is None else end))
        for start, end in portions
    )
    merged: list[Interval] = []
    for start, end in clamped:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class Audience(enum.StrEnum):
    """Who plays or receives a recording of a hearing with closed portions."""

    COURT = "court"  # the judge and the court's staff: they keep and hear the whole record
    REVIEW_IN_COURT = "review_in_court"  # R28, R32: review at the court's station
    COPY = "copy"  # R31: a copy, and the participant's online playback of that copy


def excluded_for(
    audience: Audience, *, closed_hearing: bool, portions: Iterable[Interval]
) -> list[Interval] | None:
    """What ``audience`` must not receive (R32): every closed portion for a copy or its online
    playback, nothing for the court or a review in court. ``None``: a copy is refused whole
    (a hearing held entirely in closed session, ``decide_petition``)."""
    if audience != Audience.COPY:
        return []
    if closed_hearing:
        return None
    return list(portions)
