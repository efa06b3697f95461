"""Copies (R31–R33) from real sealed recordings: stream-copied audio, the BagIt package, its
signatures verified by ``taspa verify`` and by OpenSSL, downloads limited to the applicant."""

import json
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from taspa.access.copies import copies_dir
from taspa.access.models import Copy
from taspa.access.package import verify_copy_package
from taspa.audit.models import AuditEvent
from taspa.recorder.models import Recording
from taspa.sealing.reading import write_sealed

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def petition_body(hearing, **extra):
    return {
        "hearing": hearing.pk,
        "kind": "copy",
        "applicant": {"name": "Әсел Үмбетова", "role": "plaintiff", "address": "", "phone": ""},
        "delivery": "online",
        "personal_data_warning_acknowledged": True,
    } | extra


@pytest.fixture
def staff(world, api_as):
    return api_as(world.person("secretary"))


def issue(staff, hearing, **extra) -> tuple[dict, Copy]:
    petition = staff.post("/petitions", petition_body(hearing, **extra)).json()
    answer = staff.post(f"/petitions/{petition['id']}/fulfil").json()
    return answer, Copy.objects.get(pk=answer["copy"])


def unzip(copy: Copy, into: Path) -> Path:
    with zipfile.ZipFile(copies_dir() / copy.file_name) as archive:
        archive.extractall(into)
    return next(into.iterdir())


def streams(path: Path) -> list[str]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "json", path],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return [s["codec_type"] for s in json.loads(out)["streams"]]


def audio_packets_md5(path: Path) -> str:
    """MD5 over the audio packets' bytes as stored (``-c copy``: nothing decoded)."""
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-i", path, "-map", "0:a", "-c", "copy", "-f", "md5", "-"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def test_r31_civil_copy_is_audio_only_and_byte_identical(sealed_hearing, staff, tmp_path):
    hearing = sealed_hearing("civil")
    answer, copy = issue(staff, hearing)
    assert answer["download_url"] == f"/api/v1/copies/{copy.pk}/download"
    bag = unzip(copy, tmp_path / "out")
    media = next((bag / "data" / "copy").glob("*.audio.mka"))
    assert streams(media) == ["audio", "audio"]  # no video stream (ffprobe)
    original = write_sealed(Recording.objects.get(hearing=hearing), tmp_path, ["media"]).media
    assert "video" in streams(original)
    assert audio_packets_md5(media) == audio_packets_md5(original)  # no re-encoding
    manifest = json.loads(next((bag / "data" / "copy").glob("*.manifest.json")).read_bytes())
    assert manifest["copy"]["petition"] == copy.petition_id
    assert str(tmp_path) not in json.dumps(manifest)  # no server path in what the party gets
    assert manifest["copy"]["source"]["sha256"] == Recording.objects.get(hearing=hearing).sha256
    assert (bag / "data" / "marks.json").is_file()
    checks = verify_copy_package(copies_dir() / copy.file_name)
    assert [c.name for c in checks if not c.ok] == []
    assert {"bag_fixity", "copy_media_signature", "original_manifest_signature", "copy_source"} <= {
        c.name for c in checks
    }


def test_r31_criminal_copy_carries_audio_and_video_and_verifies(sealed_hearing, staff, capsys):
    hearing = sealed_hearing("criminal")
    _, copy = issue(staff, hearing)
    assert copy.media == "audio+video"
    call_command("verify", str(copies_dir() / copy.file_name))
    out = capsys.readouterr().out
    assert "FAIL" not in out
    assert "original_manifest_signature" in out and "copy_source" in out and "bag_fixity" in out


def test_r31_copy_verifies_with_plain_openssl(sealed_hearing, staff, tmp_path, court_ca):
    _, copy = issue(staff, sealed_hearing("civil"))
    bag = unzip(copy, tmp_path / "out")
    media = next((bag / "data" / "copy").glob("*.audio.mka"))
    done = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER",
         "-in", f"{media}.p7s", "-content", media, "-CAfile", court_ca[1],
         "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Verification successful" in done.stderr


def test_r31_tampered_copy_fails_verification(sealed_hearing, staff, tmp_path):
    _, copy = issue(staff, sealed_hearing("civil"))
    bag = unzip(copy, tmp_path / "out")
    media = next((bag / "data" / "copy").glob("*.audio.mka"))
    data = bytearray(media.read_bytes())
    data[5000] ^= 0xFF
    media.write_bytes(bytes(data))
    failed = {c.name for c in verify_copy_package(bag) if not c.ok}
    assert {"bag_fixity", "copy_media_hash", "copy_media_signature"} <= failed
    with pytest.raises(CommandError) as error:
        call_command("verify", str(bag))
    assert error.value.returncode == 1


def test_second_fulfilment_returns_the_same_copy(sealed_hearing, staff):
    hearing = sealed_hearing("civil")
    answer, copy = issue(staff, hearing)
    again = staff.post(f"/petitions/{copy.petition_id}/fulfil").json()
    assert again == answer and Copy.objects.count() == 1


def test_r31_download_is_for_the_applicant_until_it_expires(sealed_hearing, world, api_as):
    hearing = sealed_hearing("civil")
    staff = api_as(world.person("secretary"))
    party = world.person("participant")
    staff.post(f"/cases/{hearing.case_id}/parties", {"user": party.pk, "role": "participant"})
    applicant = api_as(party)
    petition = applicant.post("/petitions", petition_body(hearing)).json()
    answer = staff.post(f"/petitions/{petition['id']}/fulfil").json()
    url = answer["download_url"].removeprefix("/api/v1")
    whole = applicant.get(url)
    assert whole.status_code == 200 and whole["Content-Type"] == "application/zip"
    part = applicant.client.get(
        answer["download_url"], headers=applicant.headers | {"Range": "bytes=0-3"}
    )
    assert part.status_code == 206 and b"".join(part.streaming_content) == b"PK\x03\x04"
    stranger = api_as(world.person("representative"))
    refused = stranger.get(url)
    assert refused.status_code == 403 and refused.json()["error"] == "not_the_applicant"
    Copy.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    expired = applicant.get(url)
    assert expired.status_code == 422 and expired.json()["error"] == "download_link_expired"
    assert staff.get(url).status_code == 200  # staff write it to a medium at any time
    assert AuditEvent.objects.filter(action="access.copy_download").count() == 3


def test_r33_medium_written_only_with_formatting_consent(sealed_hearing, staff):
    hearing = sealed_hearing("civil")
    _, copy = issue(staff, hearing, delivery="medium")
    medium = {"device": "/dev/null", "mount": "/media/stick", "confirmation": ""}
    refused = staff.post(f"/petitions/{copy.petition_id}/medium-written", medium)
    assert refused.status_code == 422
    assert refused.json()["error"] == "medium_formatting_consent_missing"
    # With consent the medium is formatted for real first: test_r33_applicant_medium.py.


def test_r35_receipt_of_a_copy_online_by_the_applicant(sealed_hearing, world, api_as):
    hearing = sealed_hearing("admin_offence")
    staff = api_as(world.person("secretary"))
    party = world.person("participant")
    staff.post(f"/cases/{hearing.case_id}/parties", {"user": party.pk, "role": "offence_person"})
    applicant = api_as(party)
    petition = applicant.post("/petitions", petition_body(hearing)).json()
    assert petition["media"] == "audio"
    staff.post(f"/petitions/{petition['id']}/fulfil")
    receipt = applicant.post(f"/petitions/{petition['id']}/receipt", {})
    assert receipt.status_code == 201
    assert receipt.json()["receipt"] == receipt.json()["receipt"] | {
        "signed_by": "Әсел Үмбетова",
        "channel": "online",
    }


def test_copy_without_a_sealed_recording_is_a_conflict(world, staff, home):
    hearing = world.hearing(kind="civil")
    petition = staff.post("/petitions", petition_body(hearing)).json()
    answer = staff.post(f"/petitions/{petition['id']}/fulfil")
    assert answer.status_code == 409 and answer.json()["error"] == "no_sealed_recording"


def test_r14_r31_the_copy_is_signed_by_the_staff_member_who_issues_it(
    world, sealed_hearing, api_as, court_ca, capsys
):
    """A copy does not need the recording secretary's key to be valid: the court administrator
    who issues it signs it with their own EDS, even after the secretary's key was revoked."""
    from taspa.sealing import democa
    from taspa.sealing.actions import register_signing_key, revoke_current_signing_key

    hearing = sealed_hearing("civil")
    admin = world.person("court_admin")
    register_signing_key(
        actor=world.admin,
        user=admin,
        p12=democa.issue_p12(court_ca[0], common_name="Нұрлан Әбенов", password="pin-1234"),
        password="pin-1234",
    )
    revoke_current_signing_key(actor=world.admin, user=world.person("secretary"))
    _, copy = issue(api_as(admin), hearing)
    assert "Нұрлан Әбенов" in copy.signer_subject
    call_command("verify", str(copies_dir() / copy.file_name))
    out = capsys.readouterr().out
    assert "FAIL" not in out and "original_manifest_signature" in out
