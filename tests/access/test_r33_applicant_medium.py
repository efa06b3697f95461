"""R33 for the applicant's own medium: «работник суда перед записью копии … форматирует
материальный (электронный) носитель». Court staff format the stick the applicant brought with
the case-file medium's own formatting (custody.medium.format_device: a confirmation naming the
device, its size and its label; never a device mounted anywhere else), then the copy's package
is written onto it and read back. A real loop device stands in for the stick."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from taspa.access.models import Copy
from taspa.audit.models import AuditEvent

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
IS_ROOT = os.geteuid() == 0


def _kernel_mounts(filesystem: str) -> bool:
    lines = Path("/proc/filesystems").read_text().splitlines()
    return filesystem in {line.split()[-1] for line in lines if line}


def _blkid(device: str) -> dict[str, str]:
    out = subprocess.run(
        ["blkid", "-p", "-o", "export", device], capture_output=True, text=True, timeout=60
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


@pytest.fixture(autouse=True)
def media_roots(settings, tmp_path) -> None:
    settings.TASPA_MEDIUM_ROOTS = [str(tmp_path)]
    # exFAT/vfat are what media get; where this kernel cannot mount them (the copy is written
    # onto the mounted medium) the full path runs on ext4, as tests/custody does.
    settings.TASPA_MEDIUM_FILESYSTEM = next(
        (fs for fs in ("exfat", "vfat") if _kernel_mounts(fs)), "ext4"
    )


@pytest.fixture
def staff(world, api_as):
    return api_as(world.person("secretary"))


def medium_copy(staff, hearing, consent: bool = True) -> Copy:
    body = {
        "hearing": hearing.pk,
        "kind": "copy",
        "applicant": {"name": "Әсел Үмбетова", "role": "plaintiff", "address": "", "phone": ""},
        "delivery": "medium",
        "personal_data_warning_acknowledged": True,
        "medium_formatting_consent": consent,
    }
    petition = staff.post("/petitions", body).json()
    answer = staff.post(f"/petitions/{petition['id']}/fulfil").json()
    return Copy.objects.get(pk=answer["copy"])


def write(staff, copy: Copy, device: str, mount: Path | str, confirmation: str = ""):
    body = {"device": device, "mount": str(mount), "confirmation": confirmation}
    return staff.post(f"/petitions/{copy.petition_id}/medium-written", body)


def test_r33_applicant_medium_formatted_before_the_copy_is_written(
    sealed_hearing, staff, loop_device, settings
):
    device, point = loop_device
    copy = medium_copy(staff, sealed_hearing("civil"))
    expected = f"{device} 32.0 MiB OLDSTICK"
    unconfirmed = write(staff, copy, device, point)
    assert unconfirmed.status_code == 422
    assert unconfirmed.json()["error"] == "format_not_confirmed"
    assert expected in unconfirmed.json()["detail"]  # the device, its size and its label
    assert (point / "old.doc").exists()

    answer = write(staff, copy, device, point, expected)
    assert answer.status_code == 200, answer.json()
    fs = settings.TASPA_MEDIUM_FILESYSTEM
    probe = _blkid(device)
    assert probe["TYPE"] == fs and probe["LABEL"] == "TASPA"  # really formatted
    assert sorted(p for p in os.listdir(point) if p != "lost+found") == [copy.file_name]
    on_medium = (point / copy.file_name).read_bytes()
    assert hashlib.sha256(on_medium).hexdigest() == copy.digest  # the issued, signed package
    copy.refresh_from_db()
    assert copy.medium_formatted_at is not None
    done = copy.medium_record["format"]
    assert done["device"] == device and done["size_bytes"] == 32 << 20
    assert done["label_before"] == "OLDSTICK" and done["fstype_before"] == "ext4"
    assert [c.split()[0] for c in done["commands"]] == ["umount", "wipefs", f"mkfs.{fs}", "mount"]
    assert copy.medium_record["written"]["sha256"] == copy.digest
    assert answer.json()["medium"] == copy.medium_record
    formatted = AuditEvent.objects.get(action="access.medium_format")
    assert formatted.payload["commands"] == done["commands"]
    written = AuditEvent.objects.get(action="access.medium_written")
    assert written.payload["written"]["file"] == copy.file_name
    again = write(staff, copy, device, point, f"{device} 32.0 MiB TASPA")
    assert again.status_code == 409 and again.json()["error"] == "copy_already_on_medium"


def test_r33_a_mounted_device_is_refused_and_nothing_changes(
    sealed_hearing, staff, loop_device, tmp_path
):
    device, point = loop_device
    copy = medium_copy(staff, sealed_hearing("civil"))
    second = tmp_path / "also-here"
    second.mkdir()
    subprocess.run(["mount", device, str(second)], check=True, timeout=30)
    try:
        answer = write(staff, copy, device, point, f"{device} 32.0 MiB OLDSTICK")
    finally:
        subprocess.run(["umount", str(second)], check=False, timeout=30)
    assert answer.status_code == 422 and answer.json()["error"] == "device_in_use"
    assert str(second) in answer.json()["detail"]
    assert (point / "old.doc").exists() and _blkid(device)["LABEL"] == "OLDSTICK"
    copy.refresh_from_db()
    assert copy.medium_formatted_at is None and copy.medium_record == {}
    assert not AuditEvent.objects.filter(action="access.medium_format").exists()
    assert AuditEvent.objects.get(action="access.medium_refused").payload["error"] == (
        "device_in_use"
    )


def test_r33_a_wrong_confirmation_is_refused_in_the_users_language(
    sealed_hearing, staff, loop_device
):
    device, point = loop_device
    copy = medium_copy(staff, sealed_hearing("civil"))
    staff.headers["Accept-Language"] = "ru"
    for wrong in (device, f"{device} 16.0 MiB OLDSTICK", f"{device} 32.0 MiB NEWSTICK"):
        answer = write(staff, copy, device, point, wrong)
        assert answer.status_code == 422 and answer.json()["error"] == "format_not_confirmed"
        assert "Форматирование" in answer.json()["detail"]
    assert (point / "old.doc").exists()
    assert _blkid(device)["TYPE"] == "ext4"
    assert _blkid(device)["LABEL"] == "OLDSTICK"
    copy.refresh_from_db()
    assert copy.medium_formatted_at is None and copy.medium_record == {}
    assert not AuditEvent.objects.filter(
        action__in=["access.medium_format", "access.medium_written"]
    ).exists()


def test_r33_applicant_medium_input_is_checked(sealed_hearing, staff, tmp_path):
    """No root needed: a device outside /dev, a folder outside the media roots, a missing body
    or a medium without the applicant's consent are 4xx in the contract's shape."""
    copy = medium_copy(staff, sealed_hearing("civil"))
    (tmp_path / "usb").mkdir()
    cases = [
        ("/etc/passwd", tmp_path / "usb", "device_path_not_allowed"),
        ("/dev/../etc/passwd", tmp_path / "usb", "device_path_not_allowed"),
        ("dev/sdb", tmp_path / "usb", "device_path_not_allowed"),
        ("/dev/sdz\x00", tmp_path / "usb", "nul_character"),  # the JSON parser's own
        ("/dev/null", "/etc", "medium_path_not_allowed"),
        ("/dev/null", tmp_path / "nowhere", "medium_not_found"),
        ("/dev/null", tmp_path / "usb", "not_a_block_device"),
    ]
    for device, mount, code in cases:
        answer = write(staff, copy, device, mount, "x")
        assert answer.status_code == 422, (device, answer.json())
        assert answer.json()["error"] == code and answer.json()["detail"]
    empty = staff.post(f"/petitions/{copy.petition_id}/medium-written", {})
    assert empty.status_code == 422 and empty.json()["error"] == "invalid_input"
    no_consent = medium_copy(staff, sealed_hearing("civil"), consent=False)
    refused = write(staff, no_consent, "/dev/null", tmp_path / "usb", "x")
    assert refused.status_code == 422
    assert refused.json()["error"] == "medium_formatting_consent_missing"
    copy.refresh_from_db()
    assert copy.medium_formatted_at is None
    assert not AuditEvent.objects.filter(action="access.medium_format").exists()


@pytest.mark.parametrize("filesystem", ["exfat", "vfat"])
def test_r33_applicant_medium_gets_the_media_file_system_for_real(
    sealed_hearing, staff, loop_device, settings, filesystem
):
    """exFAT (the default) and vfat through the same path: mkfs makes the file system on the
    loop device (read back with blkid and fsck). Where this kernel cannot mount it back, the copy is
    not written, the answer says formatting failed and the trail says the medium was erased."""
    device, point = loop_device
    if shutil.which(f"mkfs.{filesystem}") is None:
        pytest.skip(f"mkfs.{filesystem} is not installed (Debian: exfatprogs / dosfstools)")
    settings.TASPA_MEDIUM_FILESYSTEM = filesystem
    copy = medium_copy(staff, sealed_hearing("civil"))
    answer = write(staff, copy, device, point, f"{device} 32.0 MiB OLDSTICK")
    probe = _blkid(device)
    assert probe["TYPE"] == filesystem and probe["LABEL"] == "TASPA"
    checker = [f"fsck.{filesystem}", "-n", device]
    if shutil.which(checker[0]):
        assert subprocess.run(checker, capture_output=True, timeout=60).returncode == 0
    copy.refresh_from_db()
    if _kernel_mounts(filesystem):
        assert answer.status_code == 200 and copy.medium_record["format"]["filesystem"] == (
            filesystem
        )
        assert (point / copy.file_name).is_file()
    else:
        assert answer.status_code == 422 and answer.json()["error"] == "medium_format_failed"
        assert copy.medium_formatted_at is None
        failed = AuditEvent.objects.get(action="access.medium_format_failed")
        assert failed.payload["error"] == "medium_format_failed"
