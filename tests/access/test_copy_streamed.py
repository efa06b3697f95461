"""#17 point 3: a copy without a cut streams the sealed original from the blob store into
ffmpeg while hashing it (no checked temporary file first). A blob swapped or truncated behind
Taspa's back after sealing is found at the end of that stream: the copy is refused (409
fixity_failed), no package, nothing signed, nothing issued, the recording marked failed and
one incident opened, as the checked temporary file did before."""

from __future__ import annotations

import os

import pytest

from taspa.access import package
from taspa.access.copies import copies_dir, issue_copy
from taspa.access.models import Copy, Petition
from taspa.incidents.models import Incident
from taspa.recorder.models import Recording
from taspa.sealing import reading
from taspa.sealing.reading import SealedBytesRefused
from taspa.storage.store import get_store

from . import copykit

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
recorder_media, recorded = copykit.recorder_media, copykit.recorded  # the fixtures


@pytest.fixture
def signed(monkeypatch):
    """Every signature the copy package makes, and the checked temporary copies made."""
    calls: dict[str, list] = {"signed": [], "checked": []}
    write_signed, write_sealed = package._write_signed, reading.write_sealed

    def counting(*args, **kwargs):
        calls["signed"].append(args[2])
        return write_signed(*args, **kwargs)

    def checked(recording, directory, kinds=reading.BLOB_KINDS, store=None):
        calls["checked"].append(tuple(kinds))
        return write_sealed(recording, directory, kinds, store)

    monkeypatch.setattr(package, "_write_signed", counting)
    monkeypatch.setattr(reading, "write_sealed", checked)
    return calls


def _blob(digest: str):
    path = get_store().path(digest)
    os.chmod(path, 0o644)
    return path


@pytest.mark.parametrize("kind", ["civil", "criminal"])  # audio-only (Ogg) and A/V (MP4)
def test_r20_streamed_copy_is_made_without_a_checked_temporary_media(recorded, signed, kind):
    _, petition = recorded(kind)
    copy = issue_copy(actor=recorded.secretary, petition=petition)
    assert copy.media_sha256 and (copies_dir() / copy.file_name).is_file()
    assert all("media" not in kinds for kinds in signed["checked"])  # streamed, not copied
    assert len(signed["signed"]) == 1


@pytest.mark.parametrize("kind", ["civil", "criminal"])
def test_r20_media_swapped_in_the_store_after_sealing_refuses_the_streamed_copy(
    recorded, signed, kind
):
    """Same size, other bytes (a byte near the end flipped: only the whole hash sees it)."""
    recording, petition = recorded(kind)
    path = _blob(recording.sha256)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(SealedBytesRefused):
        issue_copy(actor=recorded.secretary, petition=petition)
    _nothing_issued(recording, petition, signed)


def test_r20_media_truncated_behind_the_size_check_refuses_the_streamed_copy(
    recorded, signed, monkeypatch
):
    """Cut short after the cheap size check passed (or on a store whose size is its record):
    the stream ends early, its hash differs, the copy is refused."""
    recording, petition = recorded("civil")
    sealed_size = recording.bytes
    path = _blob(recording.sha256)
    with path.open("r+b") as handle:
        handle.truncate(sealed_size // 2)
    store = get_store()
    monkeypatch.setattr(type(store), "size", lambda self, digest: sealed_size)
    with pytest.raises(SealedBytesRefused):
        issue_copy(actor=recorded.secretary, petition=petition)
    _nothing_issued(recording, petition, signed)


def _nothing_issued(recording: Recording, petition: Petition, signed) -> None:
    assert signed["signed"] == []  # nothing signed over the wrong bytes
    assert not Copy.objects.exists()
    assert Petition.objects.get(pk=petition.pk).state != Petition.State.FULFILLED
    assert not list(copies_dir().glob("*.zip")) and not list(copies_dir().glob(".*"))
    assert Recording.objects.get(pk=recording.pk).fixity_ok is False
    assert Incident.objects.filter(hearing=recording.hearing, kind="fixity_failed").count() == 1
