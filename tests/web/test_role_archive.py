"""The case-file media pages (R12, R15, R21, R22, R24–R26, R29): a sealed recording written
onto a medium, handed over, checked and accepted into the archive, listed in the inventory and,
once its period is over, destroyed under an act — each step the action the API calls."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from taspa.custody.models import DestructionAct, Medium
from taspa.recorder.actions import seal_stopped
from taspa.recorder.models import Recording
from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key

PASSWORD = "pin-role"


@pytest.fixture(scope="module")
def ca() -> democa.DemoCA:
    return democa.create_ca("Taspa Archive Pages CA")


@pytest.fixture
def sealed(world, ca, settings, tmp_path) -> Recording:
    """A four-second sealed recording of a civil hearing of court A."""
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(ca.pem)
    settings.TASPA_TRUST_ANCHORS = str(anchors)
    settings.TASPA_HOME = tmp_path / "home"
    settings.TASPA_HOME.mkdir()
    settings.TASPA_MEDIUM_ROOTS = [str(tmp_path / "media")]
    settings.TASPA_MEDIUM_REQUIRE_MOUNT_POINT = False
    secretary = world.person("secretary")
    p12 = democa.issue_p12(ca, common_name="Айгүл Жұмабаева", password=PASSWORD)
    register_signing_key(actor=world.admin, user=secretary, p12=p12, password=PASSWORD)
    hearing = world.hearing(court="a", kind="civil")
    spool = tmp_path / "spool"
    spool.mkdir()
    media = spool / "capture.ts"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:d=3",
         "-c:a", "libopus", "-b:a", "32k", "-f", "mpegts", str(media)],
        check=True, timeout=60,
    )  # fmt: skip
    data = media.read_bytes()
    started = timezone.now() - timedelta(seconds=10)
    type(hearing).objects.filter(pk=hearing.pk).update(state="stopped")
    recording = Recording.objects.create(
        hearing=hearing, spool_dir=str(spool), started_at=started,
        stopped_at=started + timedelta(seconds=3), state=Recording.State.STOPPED,
        container="mpegts", sha256=hashlib.sha256(data).hexdigest(), bytes=len(data),
        duration_s=3.0, chain_head="0" * 64, pieces=3, media_path=str(media),
    )  # fmt: skip
    assert seal_stopped(recording).state == Recording.State.SEALED
    return Recording.objects.get(pk=recording.pk)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.slow
def test_r12_r21_r22_r26_medium_written_handed_over_accepted_listed_and_destroyed(
    world, sealed, tmp_path, ca
):
    secretary, archivist = world.person("secretary"), world.person("archivist")
    stick = tmp_path / "media" / "usb0"
    stick.mkdir(parents=True)
    page = signed_in(secretary).get(reverse("web:media"))
    assert sealed in list(page.context["writable"])
    written = signed_in(secretary).post(
        reverse("web:medium_write", args=[sealed.pk]), {"mount": str(stick)}
    )
    medium = Medium.objects.get()
    assert written.status_code == 302 and medium.state == "with_secretary" and medium.valid
    detail = signed_in(secretary).get(reverse("web:medium", args=[medium.pk]))
    assert detail.context["may_hand_over"] and not detail.context["may_accept"]
    handed = signed_in(secretary).post(
        reverse("web:medium_step", args=[medium.pk, "handover"]), {"to": archivist.pk}
    )
    assert handed.status_code == 302
    medium.refresh_from_db()
    assert medium.state == "handed_over"
    # R22: the stick that is plugged in is not the medium: refused, still handed over.
    other = tmp_path / "media" / "usb1"
    other.mkdir()
    client = signed_in(archivist)
    client.post(reverse("web:medium_step", args=[medium.pk, "accept"]), {"mount": str(other)})
    medium.refresh_from_db()
    assert medium.state == "handed_over"
    client.post(reverse("web:medium_step", args=[medium.pk, "accept"]), {"mount": str(stick)})
    medium.refresh_from_db()
    assert medium.state == "in_archive" and medium.holder == archivist
    # The dashboard says where the medium is and who answers for it, in words.
    board = client.get(reverse("web:dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "in the archive" in board and str(archivist) in board and "in_archive" not in board
    inventory = client.get(reverse("web:inventory", args=[medium.case_id]))
    assert [e["number"] for e in inventory.context["entries"]] == [1]
    # R29: a damaged medium needs its note; an endless note is refused next to the field.
    check = reverse("web:medium_step", args=[medium.pk, "visual-check"])
    answer = client.post(check, {"intact": "no", "note": "ә" * 200_000})
    assert answer.status_code == 422 and "note" in answer.context["check_form"].errors
    assert medium.visual_checks.count() == 0
    assert client.post(check, {"intact": "yes"}).status_code == 302
    assert medium.visual_checks.get().intact
    # R24, R25: the judgment took effect long ago: the period is over, the act destroys it.
    year_1900 = client.post(
        reverse("web:inventory", args=[medium.case_id]), {"effective_on": "1900-01-01"}
    )
    assert year_1900.status_code == 422 and "effective_on" in year_1900.context["form"].errors
    client.post(reverse("web:inventory", args=[medium.case_id]), {"effective_on": "2001-03-01"})
    due = client.get(reverse("web:media")).context["due"]
    assert [item["id"] for item in due[0]["items"]] == [medium.pk]
    client.post(reverse("web:destruction", args=[world.courts["a"].pk]), {"medium": medium.pk})
    act = DestructionAct.objects.get()
    medium.refresh_from_db()
    assert medium.destruction_act == act and medium.state == "in_archive", "not before signing"
    # R26: the archivist and the court administrator sign with their keys; then it is destroyed.
    court_admin = world.person("court_admin")
    for person in (archivist, court_admin):
        p12 = democa.issue_p12(ca, common_name=str(person), password=PASSWORD)
        register_signing_key(actor=world.admin, user=person, p12=p12, password=PASSWORD)
    row = client.get(reverse("web:media")).context["destruction_acts"][0]
    assert row["may_sign"] and not row["complete"]
    client.post(reverse("web:destruction_sign", args=[act.pk]))
    medium.refresh_from_db()
    assert medium.state == "in_archive", "one signature is not enough"
    signed_in(court_admin).post(reverse("web:destruction_sign", args=[act.pk]))
    medium.refresh_from_db()
    assert medium.state == "destroyed" and medium.holder is None
    # R22: the case accepted into the archive: its one recording's medium was there.
    accepted = client.post(reverse("web:case_accept", args=[medium.case_id]), follow=True)
    assert accepted.status_code == 200 and accepted.context["acceptance"] is not None


def test_media_pages_are_for_staff_only(world):
    assert signed_in(world.person("participant")).get(reverse("web:media")).status_code == 404
