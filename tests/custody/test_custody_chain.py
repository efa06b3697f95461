"""R21, R22, R25, R26, R29: who holds the medium, the handover to the archive and the archivist's
acceptance check, visual checks after reviews, retention by case kind and destruction."""

import io
import shutil
from datetime import date

import pytest

from taspa.audit.models import AuditEvent
from taspa.audit.selectors import verify_audit_chain
from taspa.custody.actions import write_medium
from taspa.custody.models import Medium
from taspa.custody.policy import DEFAULT_RETENTION_YEARS, retention_until

pytestmark = pytest.mark.django_db


@pytest.fixture
def medium(world, sealed, mount) -> Medium:
    return write_medium(actor=world.person("secretary"), recording=sealed, mount=mount)


def test_r21_r22_handover_to_the_archivist_and_acceptance_check(world, medium, mount, api_as):
    secretary, archivist = api_as(world.person("secretary")), api_as(world.person("archivist"))
    url = f"/media/{medium.pk}"

    judge = secretary.post(f"{url}/handover", {"to": "judge-a"})
    assert judge.status_code == 422 and judge.json()["error"] == "not_an_archivist"
    other_court = secretary.post(f"{url}/handover", {"to": "archivist-b"})
    assert other_court.json()["error"] == "not_an_archivist"
    assert AuditEvent.objects.filter(action="medium.handover_refused").count() == 2
    assert (
        api_as(world.person("judge")).post(f"{url}/handover", {"to": "archivist-a"}).json()["error"]
        == "not_the_holder"
    )

    handed = secretary.post(f"{url}/handover", {"to": "archivist-a"})
    assert handed.status_code == 200 and handed.json()["state"] == "handed_over"
    assert handed.json()["holder"] == "secretary-a"  # until the archivist accepts it

    # R22: the medium is not there (another stick was plugged in): refused, still handed over.
    empty = mount.parent / "other-stick"
    empty.mkdir()
    missing = archivist.post(f"{url}/accept", {"mount": str(empty)})
    assert missing.status_code == 422 and missing.json()["error"] == "medium_check_failed"
    assert "is not there" in missing.json()["detail"]
    # Somebody else cannot accept it.
    thief = api_as(world.person("archivist", "b")).post(f"{url}/accept", {"mount": str(mount)})
    assert thief.status_code == 404

    accepted = archivist.post(f"{url}/accept", {"mount": str(mount)})
    assert accepted.status_code == 200, accepted.content
    body = accepted.json()
    assert body["state"] == "in_archive" and body["holder"] == "archivist-a"
    assert body["handovers"][0]["check"]["valid"] is True
    assert AuditEvent.objects.filter(action="medium.accept").count() == 1
    assert verify_audit_chain().ok


def test_r22_a_damaged_bag_is_not_accepted(world, medium, mount, api_as):
    api_as(world.person("secretary")).post(f"/media/{medium.pk}/handover", {"to": "archivist-a"})
    payload = next((mount / medium.bag_name / "data").glob("*.ts"))
    payload.write_bytes(payload.read_bytes()[:-10])
    refused = api_as(world.person("archivist")).post(
        f"/media/{medium.pk}/accept", {"mount": str(mount)}
    )
    assert refused.status_code == 422 and refused.json()["error"] == "medium_check_failed"
    assert "does not validate" in refused.json()["detail"]
    assert Medium.objects.get(pk=medium.pk).state == "handed_over"
    assert AuditEvent.objects.filter(action="medium.accept_refused").exists()


def test_r22_a_rebuilt_bag_with_other_content_is_not_accepted(world, medium, mount, api_as):
    """A bag that validates against itself but is not the bag that was written."""
    import bagit

    api_as(world.person("secretary")).post(f"/media/{medium.pk}/handover", {"to": "archivist-a"})
    bag_dir = mount / medium.bag_name
    (bag_dir / "data" / "index.html").write_text("<p>replaced</p>")
    bag = bagit.Bag(str(bag_dir))
    bag.save(manifests=True)
    refused = api_as(world.person("archivist")).post(
        f"/media/{medium.pk}/accept", {"mount": str(mount)}
    )
    assert refused.status_code == 422 and "differ" in refused.json()["detail"]


def test_r29_visual_check_after_a_review(world, medium, api_as):
    url = f"/media/{medium.pk}/visual-check"
    ok = api_as(world.person("secretary")).post(url, {"intact": True, "review": "petition 17"})
    assert ok.status_code == 201 and ok.json()["intact"] is True
    bad = api_as(world.person("archivist")).post(url, {"intact": False})
    assert bad.status_code == 422 and bad.json()["error"] == "damage_note_required"
    damaged = api_as(world.person("archivist")).post(
        url, {"intact": False, "note": "The envelope's seal is broken."}
    )
    assert damaged.status_code == 201
    participant = api_as(world.person("participant")).post(url, {"intact": True})
    assert participant.status_code == 404
    checks = api_as(world.person("court_admin")).get(f"/media/{medium.pk}").json()["visual_checks"]
    assert [(c["by"], c["intact"]) for c in checks] == [
        ("secretary-a", True),
        ("archivist-a", False),
    ]
    assert checks[0]["review"] == "petition 17"


@pytest.mark.parametrize(
    ("kind", "effective", "until"),
    [
        ("criminal", date(2024, 3, 1), date(2049, 12, 31)),
        ("civil", date(2024, 12, 31), date(2029, 12, 31)),
        ("admin_offence", date(2025, 1, 1), date(2028, 12, 31)),
        ("civil", None, None),  # judgment not yet in effect: kept
    ],
)
def test_r25_retention_runs_from_the_year_after_the_judgment(kind, effective, until):
    assert retention_until(kind, effective, DEFAULT_RETENTION_YEARS) == until


def test_r25_r26_due_media_are_listed_and_destroyed_under_an_act(world, medium, api_as, settings):
    case = medium.case
    case.judgment_effective_on = date(2020, 6, 1)
    case.save()
    archivist = api_as(world.person("archivist"))
    settings.TASPA_MEDIUM_RETENTION_YEARS = {"criminal": 10}
    assert archivist.get(f"/media/{medium.pk}").json()["retention_until"] == "2030-12-31"
    due = archivist.get("/media-due-for-destruction?court=court-a&on=2026-01-01").json()
    assert due["items"] == []
    early = archivist.post(
        "/destruction-acts", {"court": "court-a", "media": [medium.pk], "on": "2026-01-01"}
    )
    assert early.status_code == 422 and early.json()["error"] == "retention_not_over"

    settings.TASPA_MEDIUM_RETENTION_YEARS = {"criminal": 3}  # a court's own schedule (R25)
    due = archivist.get("/media-due-for-destruction?court=court-a&on=2026-01-01").json()
    assert [item["id"] for item in due["items"]] == [medium.pk]
    assert due["items"][0]["retention_until"] == "2023-12-31"

    secretary = api_as(world.person("secretary")).post(
        "/destruction-acts", {"court": "court-a", "media": [medium.pk], "on": "2026-01-01"}
    )
    assert secretary.status_code == 403
    act = archivist.post(
        "/destruction-acts", {"court": "court-a", "media": [medium.pk], "on": "2026-01-01"}
    )
    assert act.status_code == 201, act.content
    assert act.json()["number"] == "1/2026" and act.json()["status"] == "pending"
    listed = Medium.objects.get(pk=medium.pk)  # R26: not destroyed until the act is signed
    assert listed.state != "destroyed" and listed.destruction_act_id == act.json()["id"]
    from pypdf import PdfReader

    for language, words in (("kk", "жою туралы"), ("ru", "об уничтожении")):
        pdf = archivist.get(f"/destruction-acts/{act.json()['id']}/pdf?language={language}")
        text = " ".join(
            " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).split()
        )
        packed = text.replace(" ", "")  # narrow table cells wrap "a-criminal-1" at its hyphens
        assert words in text and f"M-{medium.pk}" in packed and case.number in packed
    again = archivist.post(
        "/destruction-acts", {"court": "court-a", "media": [medium.pk], "on": "2026-01-01"}
    )
    assert again.status_code == 422 and again.json()["error"] == "medium_not_destroyable"


def test_r26_media_are_destroyed_only_once_the_act_bears_every_required_signature(
    world, medium, api_as, settings, custody_ca
):
    """R26: destruction follows the archive rules — the act drawn up by the archivist is signed
    by the archivist and approved (signed) by the court administrator; only then is the medium
    recorded destroyed. Each signature is the signer's own EDS key on both language versions."""
    from taspa.documents.pades import pdf_signatures
    from taspa.sealing import democa
    from taspa.sealing.actions import register_signing_key

    for role, name in (("archivist", "Сәуле Мұратова"), ("court_admin", "Болат Сейітов")):
        register_signing_key(
            actor=world.admin,
            user=world.person(role),
            p12=democa.issue_p12(custody_ca, common_name=name, password="pin-1234"),
            password="pin-1234",
        )
    case = medium.case
    case.judgment_effective_on = date(2020, 6, 1)
    case.save()
    settings.TASPA_MEDIUM_RETENTION_YEARS = {"criminal": 3}
    archivist, admin = api_as(world.person("archivist")), api_as(world.person("court_admin"))
    drawn = archivist.post(
        "/destruction-acts", {"court": "court-a", "media": [medium.pk], "on": "2026-01-01"}
    ).json()
    assert [s["role"] for s in drawn["signers"]] == ["archivist", "court_admin"]
    url = f"/destruction-acts/{drawn['id']}"

    secretary = api_as(world.person("secretary")).post(f"{url}/sign")
    assert secretary.status_code == 403 and secretary.json()["error"] == "not_a_required_signer"
    first = archivist.post(f"{url}/sign")
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "pending"
    assert Medium.objects.get(pk=medium.pk).state == "with_secretary"  # one signature: kept
    assert archivist.post(f"{url}/sign").json()["error"] == "already_signed"
    assert archivist.get(f"/media/{medium.pk}").json()["destroyed_at"] is None

    last = admin.post(f"{url}/sign")
    assert last.status_code == 200 and last.json()["status"] == "complete"
    destroyed = Medium.objects.get(pk=medium.pk)
    assert destroyed.state == "destroyed" and destroyed.holder is None and destroyed.destroyed_at
    pdf = archivist.get(f"{url}/pdf?language=ru").content
    assert [s.field for s in pdf_signatures(pdf)] == ["archivist", "court_admin"]
    events = AuditEvent.objects.filter(action__startswith="medium.destr").order_by("seq")
    assert list(events.values_list("action", flat=True)) == [
        "medium.destruction_act",
        "medium.destruction_sign",
        "medium.destruction_sign",
        "medium.destroy",
    ]
    # Gone from the list of media due.
    assert (
        archivist.get("/media-due-for-destruction?court=court-a&on=2026-01-01").json()["items"]
        == []
    )


def test_r22_a_case_arriving_at_the_archive_without_its_medium_is_flagged(
    world, medium, sealed, api_as, mount
):
    """R22: the archivist accepting a case checks its file holds the medium of every recorded
    hearing; one the secretary still keeps, or that was never written, is flagged."""
    archivist = api_as(world.person("archivist"))
    case = medium.case
    url = f"/cases/{case.pk}/archive-acceptance"
    assert api_as(world.person("secretary")).post(url).status_code == 403

    # The secretary forgot to hand the medium over with the case.
    flagged = archivist.post(url)
    assert flagged.status_code == 201, flagged.content
    body = flagged.json()
    assert body["flagged"] is True
    assert body["missing"] == [
        {"recording": sealed.pk, "file": sealed.file_name, "why": "medium_with_secretary"}
    ]
    inventory = archivist.get(f"/cases/{case.pk}/inventory").json()
    assert inventory["archive_acceptance"]["flagged"] is True

    api_as(world.person("secretary")).post(f"/media/{medium.pk}/handover", {"to": "archivist-a"})
    complete = archivist.post(url).json()
    assert complete["flagged"] is False and complete["missing"] == []
    assert complete["present"][0]["state"] == "handed_over"
    assert (
        archivist.get(f"/cases/{case.pk}/inventory").json()["archive_acceptance"]["flagged"]
        is False
    )


def test_r22_a_recorded_hearing_with_no_medium_at_all_is_flagged(world, sealed, api_as):
    body = (
        api_as(world.person("archivist"))
        .post(f"/cases/{sealed.hearing.case_id}/archive-acceptance")
        .json()
    )
    assert body["flagged"] is True and body["missing"][0]["why"] == "no_medium"
    assert AuditEvent.objects.filter(action="case.archive_accept").count() == 1


def test_r21_holder_is_the_secretary_until_the_archive(world, medium):
    assert medium.holder == world.person("secretary")
    shutil.rmtree(medium.mount_path)  # the stick itself is in the envelope now
    assert Medium.objects.get(pk=medium.pk).holder_id == world.person("secretary").pk


def test_r21_the_secretary_who_recorded_holds_the_medium_a_stand_in_too(world, sealed, mount):
    """R21: custody follows the person who recorded the hearing (R7's stand-in when they did),
    not the name on the schedule."""
    from taspa.courts import actions as court_actions
    from taspa.courts.actions import RoleGrant

    stand_in = court_actions.create_user(
        actor=world.admin,
        username="stand-in-custody",
        full_name="Дана Серікова",
        roles=[RoleGrant("secretary", world.courts["a"])],
    )
    court_actions.assign_stand_in(actor=world.admin, hearing=sealed.hearing, secretary=stand_in)
    sealed.operated_by = stand_in
    sealed.save(update_fields=["operated_by"])
    medium = write_medium(actor=stand_in, recording=sealed, mount=mount)
    assert medium.holder == stand_in
    event = AuditEvent.objects.filter(action="medium.write").latest("seq")
    assert event.payload["holder"] == "stand-in-custody"
