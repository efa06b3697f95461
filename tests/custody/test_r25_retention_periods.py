"""R25: retention periods of case-file media by case kind are a table administrators keep, each
with its source; where a value is still an assumption (not confirmed against the official list
of court documents) the answers say so."""

from datetime import date

import pytest

from taspa.audit.models import AuditEvent
from taspa.custody.actions import save_retention_period, write_medium
from taspa.custody.models import RetentionPeriod
from taspa.errors import DomainError

pytestmark = pytest.mark.django_db


def test_r25_the_table_is_seeded_as_assumptions_and_says_so(world, api_as):
    rows = {r["case_kind"]: r for r in api_as(world.person("archivist")).get(
        "/retention-periods").json()["items"]}  # fmt: skip
    assert set(rows) == {"criminal", "civil", "administrative", "admin_offence", "disciplinary"}
    assert all(r["assumption"] for r in rows.values())
    assert "Перечень документов" in rows["criminal"]["source"] and rows["criminal"]["years"] == 25
    assert api_as(world.person("participant")).get("/retention-periods").status_code == 404


def test_r25_an_administrator_enters_the_official_period_and_media_follow_it(
    world, sealed, mount, api_as
):
    medium = write_medium(actor=world.person("secretary"), recording=sealed, mount=mount)
    case = medium.case
    case.judgment_effective_on = date(2020, 6, 1)
    case.save()
    archivist = api_as(world.person("archivist"))
    before = archivist.get(f"/media/{medium.pk}").json()
    assert before["retention_until"] == "2045-12-31"  # 25 years: the seeded assumption
    assert before["retention_basis"]["assumption"] is True

    period = RetentionPeriod.objects.get(case_kind="criminal")
    period.years, period.assumption = 15, False
    period.source = "Перечень документов, образующихся в деятельности судов, ст. 210"
    with pytest.raises(DomainError):
        save_retention_period(actor=world.person("court_admin"), period=period)
    period.refresh_from_db()
    assert period.years == 25
    period.years, period.assumption = 15, False
    period.source = "Перечень документов, образующихся в деятельности судов, ст. 210"
    save_retention_period(actor=world.admin, period=period)

    after = archivist.get(f"/media/{medium.pk}").json()
    assert after["retention_until"] == "2035-12-31"
    assert after["retention_basis"] == {
        "years": 15,
        "source": "Перечень документов, образующихся в деятельности судов, ст. 210",
        "assumption": False,
    }
    event = AuditEvent.objects.get(action="custody.retention_period")
    assert event.payload["years"] == 15 and event.actor_id == world.admin.pk
    period.years = 0
    with pytest.raises(DomainError) as short:
        save_retention_period(actor=world.admin, period=period)
    assert short.value.code == "retention_years_too_short"


def test_r25_the_admin_page_lists_the_table_with_its_assumptions(world, client):
    client.force_login(world.admin)
    page = client.get("/admin/custody/retentionperiod/")
    assert page.status_code == 200
    assert "admin_offence" in page.content.decode()
