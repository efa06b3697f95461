"""R12, R15, R33: the case-file medium — emptied first, a BagIt package with the recording, its
signature, the manifest (signed) and an offline page with the marks, read back and validated;
the envelope label; the inventory entry after the brief protocol; clear errors and nothing
half-written when the medium is unwritable, full, or not empty after wiping."""

import io
import os
import shutil
import subprocess
from pathlib import Path

import bagit
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from taspa.audit.models import AuditEvent
from taspa.custody import medium as medium_io
from taspa.custody.actions import write_medium
from taspa.custody.models import InventoryEntry, Medium
from taspa.custody.selectors import label_context, qr_svg_uri
from taspa.errors import DomainError

pytestmark = pytest.mark.django_db


def bag_files(bag: Path) -> set[str]:
    return {p.name for p in (bag / "data").iterdir()}


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


def test_r12_r33_medium_is_emptied_then_holds_a_valid_bag(world, sealed, mount, api_as, capsys):
    answer = api_as(world.person("secretary")).post(
        f"/recordings/{sealed.pk}/medium", {"mount": str(mount)}
    )
    assert answer.status_code == 201, answer.content
    detail = answer.json()
    assert detail["state"] == "with_secretary" and detail["valid"] is True
    assert detail["holder"] == "secretary-a" and detail["inventory_number"] == 1

    # R33: nothing of the old contents is left; only the bag.
    assert sorted(os.listdir(mount)) == [detail["bag"]]
    bag_dir = mount / detail["bag"]
    bag = bagit.Bag(str(bag_dir))
    bag.validate(fast=False)
    stem = sealed.file_name.rsplit(".", 1)[0]
    assert bag_files(bag_dir) == {
        sealed.file_name, f"{sealed.file_name}.p7s", f"{stem}.manifest.json",
        f"{stem}.manifest.json.p7s", "index.html", f"{stem}.player.webm",
    }  # fmt: skip
    assert bag.info["Taspa-Case-Number"] == sealed.hearing.case.number
    assert bag.info["Taspa-Recording-SHA256"] == sealed.sha256
    assert detail["files"][sealed.file_name] == sealed.sha256

    # The offline page plays the copy beside it and lists the marks with their offsets.
    page = (bag_dir / "data" / "index.html").read_text(encoding="utf-8")
    assert f'src="{stem}.player.webm"' in page and "Әсел Үмбетова" in page
    assert 'data-offset="2.0"' in page and "http" not in page.replace("http-equiv", "")
    # The signed original on the medium verifies like the one on the server.
    call_command("verify", str(bag_dir / "data" / sealed.file_name))
    assert "FAIL" not in capsys.readouterr().out

    # R12: listed in the case inventory right after the brief protocol.
    entry = InventoryEntry.objects.get()
    assert entry.number == 1 and entry.after_document.startswith("Краткий протокол")
    assert sealed.file_name in entry.title_ru and "USB-жинақтауыш" in entry.title_kk
    inventory = api_as(world.person("archivist")).get(f"/cases/{sealed.hearing.case_id}/inventory")
    assert inventory.json()["items"][0]["medium"] == detail["id"]
    shown = api_as(world.person("judge")).get(f"/hearings/{sealed.hearing_id}").json()
    assert shown["media"] == [
        {"id": detail["id"], "state": "with_secretary", "valid": True, "bag": detail["bag"],
         "holder": "secretary-a"}
    ]  # fmt: skip
    assert AuditEvent.objects.filter(action="medium.write").exists()


def test_r12_one_medium_per_recording_and_only_its_secretary_writes(world, sealed, mount, api_as):
    judge = api_as(world.person("judge")).post(
        f"/recordings/{sealed.pk}/medium", {"mount": str(mount)}
    )
    assert judge.status_code == 403
    write_medium(actor=world.person("secretary"), recording=sealed, mount=mount)
    again = api_as(world.person("secretary")).post(
        f"/recordings/{sealed.pk}/medium", {"mount": str(mount)}
    )
    assert again.status_code == 409 and again.json()["error"] == "medium_already_written"


def test_r33_missing_mount_is_a_clear_error(world, sealed, tmp_path):
    with pytest.raises(DomainError) as refused:
        write_medium(actor=world.person("secretary"), recording=sealed, mount=tmp_path / "gone")
    assert refused.value.code == "medium_not_found"
    assert AuditEvent.objects.filter(action="medium.write_refused").exists()
    assert not Medium.objects.exists()


def test_r33_only_a_mounted_medium_under_the_media_roots_is_ever_wiped(
    world, sealed, mount, tmp_path, settings, tmpfs
):
    secretary = world.person("secretary")
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep")
    for path in (outside, tmp_path, Path(settings.TASPA_HOME), Path(settings.TASPA_HOME).parent):
        with pytest.raises(DomainError) as refused:
            write_medium(actor=secretary, recording=sealed, mount=path)
        assert refused.value.code == "medium_path_not_allowed", path
    assert (outside / "precious.txt").exists()

    settings.TASPA_MEDIUM_REQUIRE_MOUNT_POINT = True  # as in production
    with pytest.raises(DomainError) as not_mounted:
        write_medium(actor=secretary, recording=sealed, mount=mount)
    assert not_mounted.value.code == "medium_not_mounted"
    assert (mount / "notes.txt").exists()
    stick = tmpfs("8m")
    assert write_medium(actor=secretary, recording=sealed, mount=stick).valid


def test_r33_read_only_medium_is_refused_and_keeps_its_files(world, sealed, tmpfs):
    read_only = tmpfs("4m", ro=True)
    with pytest.raises(DomainError) as refused:
        write_medium(actor=world.person("secretary"), recording=sealed, mount=read_only)
    assert refused.value.code == "medium_not_writable"
    assert not Medium.objects.exists()


def test_r33_full_medium_is_refused_before_writing(world, sealed, tmpfs):
    small = tmpfs("64k")
    with pytest.raises(DomainError) as refused:
        write_medium(actor=world.person("secretary"), recording=sealed, mount=small)
    assert refused.value.code == "medium_full"
    assert os.listdir(small) == [] and not Medium.objects.exists()


def test_r33_medium_filling_up_mid_write_leaves_no_bag(world, sealed, tmpfs, monkeypatch):
    """The space check is passed (as when another program fills the stick meanwhile): the real
    ENOSPC mid-write leaves no bag and no staging directory, and the medium is not valid."""
    media_size = sealed.bytes
    small = tmpfs(f"{(media_size + 8192) // 1024}k")
    monkeypatch.setattr(medium_io, "require_space", lambda mount, needed: None)
    with pytest.raises(DomainError) as failed:
        write_medium(actor=world.person("secretary"), recording=sealed, mount=small)
    assert failed.value.code == "medium_full"
    assert os.listdir(small) == []
    medium = Medium.objects.get()
    assert medium.state == "failed" and medium.valid is False and "medium_full" in medium.failure
    assert not InventoryEntry.objects.exists()
    assert AuditEvent.objects.filter(action="medium.write_failed").exists()


def test_r33_medium_not_empty_after_wiping(world, sealed, mount, tmpfs):
    busy = tmpfs("1m", at=mount / "busy")  # a mount point inside cannot be removed
    (busy / "keep.txt").write_text("x")
    with pytest.raises(DomainError) as refused:
        write_medium(actor=world.person("secretary"), recording=sealed, mount=mount)
    assert refused.value.code == "medium_not_empty" and "busy" in refused.value.detail
    assert os.listdir(mount) == ["busy"] and not Medium.objects.exists()


def test_r33_bag_that_reads_back_invalid_is_never_marked_valid(world, sealed, mount, monkeypatch):
    real = medium_io.check_bag

    def corrupted(path):
        payload = next((Path(path) / "data").glob("*.ts"))
        payload.write_bytes(payload.read_bytes()[:-1] + b"\x00")  # the stick flipped a byte
        return real(path)

    monkeypatch.setattr(medium_io, "check_bag", corrupted)
    with pytest.raises(DomainError) as failed:
        write_medium(actor=world.person("secretary"), recording=sealed, mount=mount)
    assert failed.value.code == "medium_write_failed"
    assert os.listdir(mount) == []
    assert Medium.objects.get().valid is False


def kernel_mounts(filesystem: str) -> bool:
    lines = Path("/proc/filesystems").read_text().splitlines()
    return filesystem in {line.split()[-1] for line in lines if line}


def test_r33_device_is_formatted_only_after_a_confirmation_naming_its_size_and_label(
    world, sealed, loop_device, settings
):
    device, point = loop_device
    # exFAT/vfat are what media get; where this kernel cannot mount them the write (which needs
    # the medium mounted) runs on ext4, and test_r33_mkfs_* below formats with them for real.
    fs = next((f for f in ("vfat", "exfat") if kernel_mounts(f)), "ext4")
    settings.TASPA_MEDIUM_FILESYSTEM = fs
    secretary = world.person("secretary")
    with pytest.raises(DomainError) as unconfirmed:
        write_medium(actor=secretary, recording=sealed, mount=point, device=device)
    assert unconfirmed.value.code == "format_not_confirmed"
    expected = f"{device} 32.0 MiB OLDSTICK"
    assert expected in unconfirmed.value.detail  # the device, its size and its label
    # Typing only the device's name (yesterday's confirmation) is no longer enough.
    for wrong in (device, f"{device} 16.0 MiB OLDSTICK", f"{device} 32.0 MiB NEWSTICK"):
        with pytest.raises(DomainError) as refused:
            write_medium(
                actor=secretary, recording=sealed, mount=point, device=device, confirmation=wrong
            )
        assert refused.value.code == "format_not_confirmed"
    assert (point / "old.doc").exists()
    with pytest.raises(DomainError) as not_block:
        write_medium(
            actor=secretary, recording=sealed, mount=point, device=__file__, confirmation="x"
        )
    assert not_block.value.code == "not_a_block_device"

    medium = write_medium(
        actor=secretary, recording=sealed, mount=point, device=device, confirmation=expected
    )
    assert medium.valid and medium.device == device
    assert not (point / "old.doc").exists()
    done = medium.formatted
    assert done["size_bytes"] == 32 << 20 and done["label_before"] == "OLDSTICK"
    assert done["fstype_before"] == "ext4" and done["label"] == "TASPA"
    assert done["filesystem"] == fs
    assert [c.split()[0] for c in done["commands"]] == ["umount", "wipefs", f"mkfs.{fs}", "mount"]
    formatted = AuditEvent.objects.get(action="medium.format")
    assert formatted.payload["commands"] == done["commands"]
    assert AuditEvent.objects.get(action="medium.write").payload["formatted"] == done


def test_r33_a_device_mounted_anywhere_else_is_never_formatted(
    world, sealed, loop_device, tmp_path
):
    """A device one of whose file systems is mounted elsewhere (a system disk, a second mount)
    is refused before anything is erased — even with the right confirmation."""
    from taspa.custody.medium import describe_device

    device, point = loop_device
    second = tmp_path / "also-here"
    second.mkdir()
    subprocess.run(["mount", device, str(second)], check=True, timeout=30)
    try:
        facts = describe_device(device)
        assert sorted(facts.mounts) == sorted([str(point.resolve()), str(second.resolve())])
        with pytest.raises(DomainError) as in_use:
            write_medium(
                actor=world.person("secretary"),
                recording=sealed,
                mount=point,
                device=device,
                confirmation=facts.confirmation,
            )
        assert in_use.value.code == "device_in_use" and str(second) in in_use.value.detail
        assert (point / "old.doc").exists()
    finally:
        subprocess.run(["umount", str(second)], check=False, timeout=30)
    # The disk this machine runs from (where / is a block device, not an overlay): refused too.
    root = next(
        line.split()[0]
        for line in Path("/proc/self/mounts").read_text().splitlines()
        if line.split()[1] == "/"
    )
    if root.startswith("/dev/") and os.path.exists(root):
        with pytest.raises(DomainError) as system:
            write_medium(
                actor=world.person("secretary"),
                recording=sealed,
                mount=point,
                device=root,
                confirmation=f"{root} 1.0 GiB (no label)",
            )
        assert system.value.code == "device_in_use"


@pytest.mark.parametrize("filesystem", ["vfat", "exfat"])
def test_r33_mkfs_makes_a_real_file_system_on_a_loop_device(loop_device, filesystem):
    """R33 for real: mkfs.vfat / mkfs.exfat write a new, empty file system labelled TASPA over
    the old one (read back with blkid and the file system's own checker)."""
    from taspa.custody.medium import MediumError, describe_device, format_device

    device, point = loop_device
    tool = f"mkfs.{filesystem}"
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (Debian: dosfstools / exfatprogs)")
    facts = describe_device(device)
    assert (facts.fstype, facts.label, facts.size_bytes) == ("ext4", "OLDSTICK", 32 << 20)
    try:
        done = format_device(device, point, filesystem, facts.confirmation)
    except MediumError as error:  # formatted; only the mount back failed on this kernel
        assert not kernel_mounts(filesystem) and error.code == "medium_format_failed"
        assert error.technical.startswith("mount:")  # which program failed, for the staff
        done = None
    probe = subprocess.run(
        ["blkid", "-p", "-o", "export", device], capture_output=True, text=True, check=True
    ).stdout
    assert f"TYPE={filesystem}" in probe and "LABEL=TASPA" in probe
    checker = {"vfat": ["fsck.vfat", "-n", device], "exfat": ["fsck.exfat", "-n", device]}
    if shutil.which(checker[filesystem][0]):
        assert subprocess.run(checker[filesystem], capture_output=True, timeout=60).returncode == 0
    if done is not None:
        assert done.filesystem == filesystem and done.label == "TASPA"
        assert os.listdir(point) == []


def test_medium_write_and_label_from_the_command_line(world, sealed, mount, tmp_path, capsys):
    call_command("medium", "write", "--recording", str(sealed.pk), "--mount", str(mount))
    out = capsys.readouterr().out
    assert "valid, held by secretary-a" in out
    medium = Medium.objects.get()
    call_command("medium", "label", "--medium", str(medium.pk), "--out", str(tmp_path / "labels"))
    made = sorted(p.name for p in (tmp_path / "labels").iterdir())
    assert made == [f"label-M{medium.pk}-kk.pdf", f"label-M{medium.pk}-ru.pdf"]
    with pytest.raises(CommandError) as refused:
        call_command("medium", "write", "--recording", str(sealed.pk), "--mount", str(mount))
    assert "medium_already_written" in str(refused.value)


def test_r15_label_names_case_date_secretary_and_carries_the_hash(world, sealed, mount, api_as):
    medium = write_medium(actor=world.person("secretary"), recording=sealed, mount=mount)
    api = api_as(world.person("secretary"))
    texts = {}
    for language in ("kk", "ru"):
        answer = api.get(f"/media/{medium.pk}/label?language={language}")
        assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
        texts[language] = pdf_text(answer.content)
    hearing = sealed.hearing
    day = timezone.localtime(hearing.scheduled_at).strftime("%d.%m.%Y")
    for text in texts.values():
        assert hearing.case.number in text and day in text and "secretary of a" in text
        assert sealed.sha256 in text.replace(" ", "")
    assert "Сот отырысының хатшысы" in texts["kk"] and "қолы" in texts["kk"]
    assert "Секретарь судебного заседания" in texts["ru"] and "подпись" in texts["ru"]
    # The QR code drawn on the label encodes exactly the recording's SHA-256.
    assert label_context(medium)["qr"] == qr_svg_uri(sealed.sha256)
    unwritten = Medium.objects.create(
        recording=sealed, case=sealed.hearing.case, mount_path="/x", written_by=medium.written_by,
        started_at=medium.started_at, state="failed",
    )  # fmt: skip
    refused = api.get(f"/media/{unwritten.pk}/label?language=ru")
    assert refused.status_code == 422 and refused.json()["error"] == "medium_not_valid"


@pytest.mark.slow
def test_r12_offline_page_plays_the_copy_and_jumps_to_a_mark(world, sealed, mount):
    """The page on the medium, opened from the stick by Debian's Chromium with no server: the
    copy loads and plays, and a speaker mark moves playback to that speech."""
    chromium = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    if not chromium.exists():
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    medium = write_medium(actor=world.person("secretary"), recording=sealed, mount=mount)
    page_url = (mount / medium.bag_name / "data" / "index.html").as_uri()
    args = ["--no-sandbox", "--headless=new", "--disable-gpu", "--no-first-run",
            "--autoplay-policy=no-user-gesture-required"]  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=args)
        try:
            page = browser.new_page()
            page.goto(page_url)
            page.wait_for_function("document.getElementById('player').readyState >= 1")
            duration = page.evaluate("document.getElementById('player').duration")
            page.get_by_role("button", name="00:00:02").click()
            page.wait_for_function("document.getElementById('player').currentTime >= 2.0")
            playing = page.evaluate("!document.getElementById('player').paused")
            marks = page.locator("#marks tr").all_inner_texts()
        finally:
            browser.close()
    assert 3.5 < duration < 4.5 and playing
    assert [m.split("\t")[1] for m in marks] == ["Ерлан Сәтбаев", "Әсел Үмбетова"]


@pytest.fixture
def private_store(settings, tmp_path):
    settings.TASPA_STORAGE = f"file://{tmp_path / 'blobs'}"  # this test damages its blobs


def test_r20_medium_is_never_written_from_wrong_stored_bytes(private_store, world, sealed, mount):
    """A byte flipped in the store behind Taspa's back: the medium write hashes each file as it
    writes it, refuses (409 fixity_failed), leaves no bag, and an incident says why."""
    from taspa.incidents.models import Incident
    from taspa.storage.store import get_store

    blob = get_store().path(sealed.sha256)
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(DomainError) as refused:
        write_medium(actor=world.person("secretary"), recording=sealed, mount=mount)
    assert refused.value.code == "fixity_failed" and refused.value.status == 409
    assert os.listdir(mount) == []
    assert Medium.objects.get().valid is False and not InventoryEntry.objects.exists()
    assert Incident.objects.filter(hearing=sealed.hearing, kind="fixity_failed").count() == 1
