"""R3.4: where the Rules leave it to the judge whether minutes are kept, the judge's decision is
recorded — and then drives R17: a hearing with minutes kept that was never recorded is flagged
with its act; one the judge decided to hold without minutes is not."""

from datetime import timedelta

import pytest
from django.utils import timezone

from taspa.audit.models import AuditEvent
from taspa.courts.models import Hearing
from taspa.incidents.detection import check_overdue
from taspa.incidents.models import Act, Incident

pytestmark = pytest.mark.django_db


def test_r3_4_the_judges_decision_is_recorded_and_drives_r17(world, api_as, settings):
    settings.TASPA_UNRECORDED_AFTER_H = 12
    judge = api_as(world.person("judge"))
    kept = world.hearing(court="a", kind="civil", all_participants_absent=True)
    without = world.hearing(court="a", kind="civil", no_new_evidence=True)
    assert kept.recording_required == without.recording_required == "judge_decides"
    Hearing.objects.filter(pk__in=[kept.pk, without.pk]).update(
        scheduled_at=timezone.now() - timedelta(hours=13)
    )
    # Before any decision the R17 job does not know these had to be recorded.
    assert check_overdue().startswith("0 not recorded")

    secretary = api_as(world.person("secretary"))
    url = f"/hearings/{kept.pk}/minutes-decision"
    assert secretary.post(url, {"keep_minutes": True}).status_code == 403
    decided = judge.post(url, {"keep_minutes": True, "note": "Протокол ведётся."})
    assert decided.status_code == 201, decided.content
    assert decided.json()["keep_minutes"] is True
    judge.post(f"/hearings/{without.pk}/minutes-decision", {"keep_minutes": False})
    assert AuditEvent.objects.filter(action="hearing.minutes_decision").count() == 2
    shown = judge.get(f"/hearings/{kept.pk}").json()
    assert shown["minutes_decision"]["keep_minutes"] is True

    assert check_overdue().startswith("1 not recorded")
    incident = Incident.objects.get(kind="not_recorded")
    assert incident.hearing_id == kept.pk
    assert Act.objects.get(hearing=kept).status == "pending"
    assert not Incident.objects.filter(hearing=without).exists()


def test_r3_4_the_judge_is_not_asked_where_the_rules_decide(world, api_as):
    required = world.hearing(court="a", kind="criminal")
    answer = api_as(world.person("judge")).post(
        f"/hearings/{required.pk}/minutes-decision", {"keep_minutes": False}
    )
    assert answer.status_code == 409 and answer.json()["error"] == "not_for_the_judge"
