"""R3–R5: one row per clause branch; the pure rule, no database."""

import pytest

from taspa.courts.policy import CaseKind, Instance, Requirement, recording_requirement

REQ, NOT, JUDGE = Requirement.REQUIRED, Requirement.NOT_REQUIRED, Requirement.JUDGE_DECIDES

# (test id, instance, kind, circumstances, expected requirement, expected rule)
TABLE = [
    ("r3_criminal_first_instance_recorded", "first", "criminal", {}, REQ, "R3"),
    ("r3_civil_first_instance_recorded", "first", "civil", {}, REQ, "R3"),
    ("r3_administrative_first_instance_recorded", "first", "administrative", {}, REQ, "R3"),
    ("r3_disciplinary_first_instance_recorded", "first", "disciplinary", {}, REQ, "R3"),
    (
        "r3_1_writ_proceedings_not_recorded",
        "first",
        "civil",
        {"writ_proceedings": True},
        NOT,
        "R3.1",
    ),
    (
        "r3_1_simplified_written_not_recorded",
        "first",
        "civil",
        {"simplified_written_proceedings": True},
        NOT,
        "R3.1",
    ),
    ("r3_1_applies_to_civil_only", "first", "criminal", {"writ_proceedings": True}, REQ, "R3"),
    (
        "r3_2_guilt_admitted_no_evidence_not_recorded",
        "first",
        "admin_offence",
        {"guilt_fully_admitted": True},
        NOT,
        "R3.2",
    ),
    (
        "r3_2_guilt_admitted_but_evidence_requested_recorded",
        "first",
        "admin_offence",
        {"guilt_fully_admitted": True, "evidence_examination_requested": True},
        REQ,
        "R3",
    ),
    ("r3_2_guilt_not_admitted_recorded", "first", "admin_offence", {}, REQ, "R3"),
    (
        "r3_2_applies_to_admin_offence_only",
        "first",
        "criminal",
        {"guilt_fully_admitted": True},
        REQ,
        "R3",
    ),
    (
        "r3_3_equipment_unavailable_not_recorded",
        "first",
        "criminal",
        {"equipment_unavailable": True},
        NOT,
        "R3.3",
    ),
    (
        "r3_4_all_absent_judge_decides",
        "first",
        "civil",
        {"all_participants_absent": True},
        JUDGE,
        "R3.4",
    ),
    (
        "r3_4_no_new_evidence_judge_decides",
        "first",
        "civil",
        {"no_new_evidence": True},
        JUDGE,
        "R3.4",
    ),
    (
        "r3_4_applies_to_civil_only",
        "first",
        "criminal",
        {"all_participants_absent": True},
        REQ,
        "R3",
    ),
    (
        "r3_5_preparation_on_motion_recorded",
        "first",
        "civil",
        {"preparation_stage": True, "minutes_requested": True},
        REQ,
        "R3.5",
    ),
    (
        "r3_5_preparation_court_initiative_recorded",
        "first",
        "civil",
        {"preparation_stage": True, "court_initiative": True},
        REQ,
        "R3.5",
    ),
    (
        "r3_5_preparation_decision_on_merits_recorded",
        "first",
        "civil",
        {"preparation_stage": True, "decision_on_merits_at_preparation": True},
        REQ,
        "R3.5",
    ),
    (
        "r3_5_preparation_without_grounds_not_recorded",
        "first",
        "civil",
        {"preparation_stage": True},
        NOT,
        "R3.5",
    ),
    (
        "r4_1_civil_appeal_first_instance_rules_new_evidence_recorded",
        "appeal",
        "civil",
        {"first_instance_rules": True, "new_evidence_examined": True},
        REQ,
        "R4.1",
    ),
    (
        "r4_1_civil_appeal_new_evidence_without_first_instance_rules_not_recorded",
        "appeal",
        "civil",
        {"new_evidence_examined": True},
        NOT,
        "R4",
    ),
    (
        "r4_1_civil_appeal_first_instance_rules_no_evidence_not_recorded",
        "appeal",
        "civil",
        {"first_instance_rules": True},
        NOT,
        "R4",
    ),
    (
        "r4_2_criminal_appeal_new_evidence_recorded",
        "appeal",
        "criminal",
        {"new_evidence_examined": True},
        REQ,
        "R4.2",
    ),
    (
        "r4_2_criminal_appeal_questioning_recorded",
        "appeal",
        "criminal",
        {"persons_questioned": True},
        REQ,
        "R4.2",
    ),
    ("r4_2_criminal_appeal_on_papers_not_recorded", "appeal", "criminal", {}, NOT, "R4"),
    (
        "r4_3_admin_offence_appeal_materials_recorded",
        "appeal",
        "admin_offence",
        {"first_instance_rules": True, "additional_materials_examined": True},
        REQ,
        "R4.3",
    ),
    (
        "r4_3_admin_offence_appeal_questioning_recorded",
        "appeal",
        "admin_offence",
        {"first_instance_rules": True, "persons_questioned": True},
        REQ,
        "R4.3",
    ),
    (
        "r4_3_admin_offence_appeal_court_initiative_recorded",
        "appeal",
        "admin_offence",
        {"first_instance_rules": True, "court_initiative": True},
        REQ,
        "R4.3",
    ),
    (
        "r4_3_admin_offence_appeal_person_motion_recorded",
        "appeal",
        "admin_offence",
        {"first_instance_rules": True, "person_motion": True},
        REQ,
        "R4.3",
    ),
    (
        "r4_3_admin_offence_appeal_without_first_instance_rules_not_recorded",
        "appeal",
        "admin_offence",
        {"person_motion": True},
        NOT,
        "R4",
    ),
    (
        "r4_administrative_appeal_not_recorded",
        "appeal",
        "administrative",
        {"new_evidence_examined": True},
        NOT,
        "R4",
    ),
    (
        "r4_required_appeal_with_broken_equipment_r3_3",
        "appeal",
        "criminal",
        {"persons_questioned": True, "equipment_unavailable": True},
        NOT,
        "R3.3",
    ),
    ("r5_cassation_recorded_without_minutes", "cassation", "civil", {}, REQ, "R5"),
    ("r5_supreme_court_recorded_without_minutes", "supreme", "criminal", {}, REQ, "R5"),
    (
        "r5_cassation_ignores_first_instance_exceptions",
        "cassation",
        "civil",
        {"writ_proceedings": True},
        REQ,
        "R5",
    ),
]


@pytest.mark.parametrize(
    ("instance", "kind", "circumstances", "requirement", "rule"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_recording_rules_table(instance, kind, circumstances, requirement, rule):
    decision = recording_requirement(
        instance=Instance(instance), kind=CaseKind(kind), circumstances=circumstances
    )
    assert (decision.requirement, decision.rule) == (requirement, rule)
    assert decision.explanation_ru and decision.explanation_en
    assert decision.explanation_ru != decision.explanation_en


def test_every_rule_branch_has_a_row():
    rules_covered = {row[5] for row in TABLE}
    assert rules_covered >= {
        "R3",
        "R3.1",
        "R3.2",
        "R3.3",
        "R3.4",
        "R3.5",
        "R4",
        "R4.1",
        "R4.2",
        "R4.3",
        "R5",
    }
