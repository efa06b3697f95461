"""The pure rules of the incidents area, as tables (R17, R18)."""

from datetime import UTC, datetime, timedelta

import pytest

from taspa.incidents import texts
from taspa.incidents.policy import (
    CoverageFacts,
    act_signer_roles,
    act_status,
    expected_seconds,
    recorded_verdict,
)


@pytest.mark.parametrize(
    ("instance", "roles"),
    [
        ("first", ("secretary", "court_admin")),  # R18 first sentence
        ("appeal", ("secretary", "regional_head", "regional_staff")),  # R18 second sentence
        ("cassation", ("secretary", "court_admin")),  # R5: no minutes; signed as first instance
        ("supreme", ("secretary", "court_admin")),
    ],
)
def test_r18_signers_by_instance(instance, roles):
    assert act_signer_roles(instance) == roles


def test_r18_act_is_complete_only_with_every_required_signature():
    required = ("secretary", "regional_head", "regional_staff")
    assert act_status(required, set()) == "pending"
    assert act_status(required, {"secretary", "regional_head"}) == "pending"
    assert act_status(required, set(required)) == "complete"


@pytest.mark.parametrize(
    ("facts", "ok", "reason"),
    [
        (None, False, "no_recording"),
        (CoverageFacts(3600, 3590, -20.0), True, None),  # 10 s short: within 60 s
        (CoverageFacts(3600, 3539, -20.0), False, "short_coverage"),  # 61 s short
        (CoverageFacts(3600, 3600, -60.0), False, "silent"),  # at the threshold: no signal
        (CoverageFacts(3600, 3600, -59.9), True, None),
        (CoverageFacts(3600, 3600, None), False, "silent"),  # no audio track at all
        (CoverageFacts(30, 0, None), False, "silent"),  # under the tolerance, but nothing heard
    ],
)
def test_r17_recorded_verdict(facts, ok, reason):
    verdict = recorded_verdict(facts, tolerance_s=60)
    assert verdict.ok is ok and verdict.reason == reason


def test_r6_lawful_pauses_are_not_expected_on_record():
    start = datetime(2026, 5, 4, 4, 0, tzinfo=UTC)
    stop = start + timedelta(hours=2)
    recess = (start + timedelta(minutes=30), start + timedelta(minutes=45))
    open_pause = (stop - timedelta(minutes=5), None)  # still paused at the stop
    assert expected_seconds(start, stop, []) == 7200
    assert expected_seconds(start, stop, [recess, open_pause]) == 7200 - 900 - 300


def test_notices_exist_in_both_official_languages_and_fill_every_field():
    facts = {"court": "Court A", "case": "2-1/2026", "date": "04.05.2026", "kind": "K",
             "detail": "D", "at": "10:00", "judge_told": "—", "announced": "—",
             "sender": "S", "note": "N"}  # fmt: skip
    for kind in texts.NOTICE_KINDS:
        for language in ("kk", "ru", "en"):
            subject, body = texts.notice(kind, language, facts)
            assert "2-1/2026" in subject and "{" not in subject + body
    from taspa.incidents.policy import IncidentKind

    assert set(texts.KIND_TITLES) == {kind.value for kind in IncidentKind}
    for kind in texts.KIND_TITLES:
        assert texts.kind_title(kind, "kk") != texts.kind_title(kind, "ru")
