"""The access rules as tables (R28–R32, R34): every case kind × closed × petition kind ×
applicant role, and deadlines across holidays and decreed moves of days off. Pure: no DB."""

from datetime import date

import pytest

from taspa.access.policy import (
    ApplicantRole,
    Form,
    Media,
    PetitionKind,
    WorkCalendar,
    acknowledgement_refusal,
    applicant_role,
    decide_petition,
    due_date,
)
from taspa.courts.policy import CaseKind

OK, AUDIO, AV = "review", "audio", "audio+video"
NOT_ENTITLED = "applicant_not_entitled"
WRONG_KIND = "applicant_role_not_in_case_kind"
CLOSED = "closed_hearing_no_copy"
DISCIPLINARY = "disciplinary_case_no_access"

# (case kind, applicant role) → (review open, review closed, copy open, copy closed)
TABLE = {
    # R28, R31: criminal cases — review; an audio+video copy (Appendix 1); R32 closed: review only.
    ("criminal", "participant"): (OK, OK, AV, CLOSED),
    ("criminal", "representative"): (OK, OK, AV, CLOSED),
    ("criminal", "custody_representative"): (OK, OK, AV, CLOSED),  # R30
    ("criminal", "offence_person"): (WRONG_KIND,) * 4,
    ("criminal", "other"): (NOT_ENTITLED,) * 4,
    # R30, R31: civil and administrative cases — an AUDIO copy (Appendix 2).
    ("civil", "participant"): (OK, OK, AUDIO, CLOSED),
    ("civil", "representative"): (OK, OK, AUDIO, CLOSED),
    ("civil", "custody_representative"): (OK, OK, AUDIO, CLOSED),
    ("civil", "offence_person"): (WRONG_KIND,) * 4,
    ("civil", "other"): (NOT_ENTITLED,) * 4,
    ("administrative", "participant"): (OK, OK, AUDIO, CLOSED),
    ("administrative", "representative"): (OK, OK, AUDIO, CLOSED),
    ("administrative", "custody_representative"): (OK, OK, AUDIO, CLOSED),
    ("administrative", "offence_person"): (WRONG_KIND,) * 4,
    ("administrative", "other"): (NOT_ENTITLED,) * 4,
    # R28, R31: administrative offences — the person and other participants; an AUDIO copy.
    ("admin_offence", "participant"): (OK, OK, AUDIO, CLOSED),
    ("admin_offence", "representative"): (OK, OK, AUDIO, CLOSED),
    ("admin_offence", "custody_representative"): (OK, OK, AUDIO, CLOSED),
    ("admin_offence", "offence_person"): (OK, OK, AUDIO, CLOSED),
    ("admin_offence", "other"): (NOT_ENTITLED,) * 4,
    # Disciplinary proceedings are outside Chapter 4 (R2: the body requests the recording).
    **{("disciplinary", role.value): (DISCIPLINARY,) * 4 for role in ApplicantRole},
}
COLUMNS = [
    (PetitionKind.REVIEW, False),
    (PetitionKind.REVIEW, True),
    (PetitionKind.COPY, False),
    (PetitionKind.COPY, True),
]


def test_table_covers_every_case_kind_and_role():
    assert set(TABLE) == {(k.value, r.value) for k in CaseKind for r in ApplicantRole}


@pytest.mark.parametrize(("case_kind", "role"), list(TABLE))
@pytest.mark.parametrize("column", range(4), ids=["review", "review-closed", "copy", "copy-closed"])
def test_r28_r32_petition_rules_table(case_kind, role, column):
    kind, closed = COLUMNS[column]
    decision = decide_petition(
        case_kind=CaseKind(case_kind), closed=closed, kind=kind, role=ApplicantRole(role)
    )
    expected = TABLE[(case_kind, role)][column]
    if expected in (OK, AUDIO, AV):
        assert decision.granted, decision
        if kind == PetitionKind.COPY:
            assert decision.media == Media(expected)
            assert decision.form == (Form.APPENDIX_1 if expected == AV else Form.APPENDIX_2)
    else:
        assert not decision.granted and decision.code == expected
        assert decision.rule in ("R28", "R32") and decision.explanation


def test_r32_closed_hearing_refusal_offers_review():
    decision = decide_petition(
        case_kind=CaseKind.CIVIL,
        closed=True,
        kind=PetitionKind.COPY,
        role=ApplicantRole.PARTICIPANT,
    )
    assert decision.code == "closed_hearing_no_copy" and decision.offer == PetitionKind.REVIEW


def test_r31_copy_needs_personal_data_acknowledgement():
    refusal = acknowledgement_refusal(PetitionKind.COPY, False)
    assert refusal is not None and refusal.code == "personal_data_warning_not_acknowledged"
    assert refusal.rule == "R31"
    assert acknowledgement_refusal(PetitionKind.COPY, True) is None
    assert acknowledgement_refusal(PetitionKind.REVIEW, False) is None


def test_r28_procedural_roles_read_as_applicant_roles():
    assert applicant_role("plaintiff") == ApplicantRole.PARTICIPANT
    assert applicant_role("Advocate") == ApplicantRole.REPRESENTATIVE
    assert applicant_role("custody_representative") == ApplicantRole.CUSTODY_REPRESENTATIVE
    assert applicant_role("journalist") is None


# R34 -----------------------------------------------------------------------------------------
# A calendar as the holidays package + the decree table give it (the DB-backed calendar is
# checked against the same rows in test_deadlines.py).
KZ = WorkCalendar.of(
    holidays=[
        date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 7), date(2025, 3, 8),
        date(2025, 3, 10), date(2025, 3, 21), date(2025, 3, 22), date(2025, 3, 23),
        date(2025, 3, 24), date(2025, 3, 25), date(2025, 5, 1), date(2025, 5, 7),
        date(2025, 5, 9), date(2025, 12, 16), date(2026, 1, 1), date(2026, 1, 2),
        date(2026, 1, 7),
    ],
    extra_days_off=[date(2025, 1, 3)],  # decree: day off moved from Sunday 5 January 2025
    working_days=[date(2025, 1, 5)],
)  # fmt: skip

DEADLINES = [
    # (case kind, reached the court, due) — counting from the next day
    # calendar days; a last day that is a day off moves to the next working day (УПК, КоАП)
    ("criminal", date(2025, 3, 20), date(2025, 3, 26)),  # 25 March (Nauryz) off → 26th
    ("admin_offence", date(2025, 3, 20), date(2025, 3, 26)),  # Sunday 23rd, Nauryz → 26th
    ("civil", date(2025, 3, 19), date(2025, 3, 31)),  # Nauryz 21–25 March skipped
    ("administrative", date(2025, 3, 19), date(2025, 3, 31)),
    ("civil", date(2025, 4, 29), date(2025, 5, 8)),  # 1 May, weekend, 7 May skipped
    ("civil", date(2025, 5, 5), date(2025, 5, 14)),  # 7 and 9 May skipped
    ("civil", date(2025, 12, 29), date(2026, 1, 8)),  # 1–2 January and the weekend skipped
    ("criminal", date(2025, 12, 29), date(2026, 1, 5)),  # Saturday 3rd → Monday 5th
    ("civil", date(2024, 12, 30), date(2025, 1, 9)),  # 1–3 Jan off, Sun 5 Jan works, 7 Jan
    ("civil", date(2025, 6, 2), date(2025, 6, 9)),  # an ordinary week
]


@pytest.mark.parametrize(("case_kind", "received", "due"), DEADLINES)
def test_r34_due_dates_table(case_kind, received, due):
    assert due_date(CaseKind(case_kind), received, KZ) == due


def test_r34_disciplinary_has_no_term():
    assert due_date(CaseKind.DISCIPLINARY, date(2025, 6, 2), KZ) is None


def test_r34_decree_rows_win_over_the_weekday_rule():
    assert not KZ.is_working_day(date(2025, 1, 3))  # a Friday made a day off
    assert KZ.is_working_day(date(2025, 1, 5))  # a Sunday made a working day
    assert not KZ.is_working_day(date(2025, 3, 24))  # Nauryz moved off the weekend


def test_r34_a_calendar_day_term_ending_on_a_day_off_ends_on_the_next_working_day():
    """УПК, КоАП: a term whose last day is a day off ends on the next working day (ADR 0011)."""
    # 5 days after Wednesday 4 June 2025 is Monday 9 June: a working day, not moved.
    assert due_date(CaseKind.CRIMINAL, date(2025, 6, 4), KZ) == date(2025, 6, 9)
    # 5 days after Monday 2 June is Saturday 7 June: moved to Monday 9 June.
    assert due_date(CaseKind.CRIMINAL, date(2025, 6, 2), KZ) == date(2025, 6, 9)
    # 3 days after Thursday 5 June is Sunday 8 June: moved to Monday 9 June.
    assert due_date(CaseKind.ADMIN_OFFENCE, date(2025, 6, 5), KZ) == date(2025, 6, 9)
