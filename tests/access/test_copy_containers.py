"""#16 point 4: copies any player plays, made by stream copy (R31). A recording as the recorder
writes it (two Opus microphones and H.264 in MPEG-TS) gives an Ogg Opus audio-only copy and an
MP4 audio+video copy whose packets are the sealed original's (packet hashes compared), inside a
package that ``taspa verify`` accepts (its page in Chromium: test_copy_page.py)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from taspa.access.copies import copies_dir, issue_copy
from taspa.sealing.hashing import sha256_file

from . import copykit
from .copykit import original_file, packets, stream_kinds, unpack

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
recorder_media, recorded = copykit.recorder_media, copykit.recorded  # the fixtures


def test_r31_audio_only_copy_is_ogg_opus_with_the_originals_packets(recorded, tmp_path, capsys):
    recording, petition = recorded("civil")
    copy = issue_copy(actor=recorded.secretary, petition=petition)
    _, manifest, media = unpack(copies_dir() / copy.file_name, tmp_path / "out")
    assert media.suffix == ".ogg" and manifest["copy"]["container"] == "audio/ogg"
    assert stream_kinds(media) == ["audio/opus", "audio/opus"]  # both microphones, no video
    original = original_file(recording, tmp_path)
    for track in ("a:0", "a:1"):
        assert [p.md5 for p in packets(media, track)] == [p.md5 for p in packets(original, track)]
    assert manifest["copy"]["source"]["sha256"] == recording.sha256
    assert manifest["file"]["sha256"] == copy.media_sha256 == sha256_file(media).sha256
    assert manifest["copy"]["excluded"] == []
    call_command("verify", str(copies_dir() / copy.file_name))
    out = capsys.readouterr().out
    assert "FAIL" not in out and "copy_source" in out and "bag_fixity" in out


def test_r31_audio_video_copy_is_mp4_with_the_originals_packets(recorded, tmp_path, capsys):
    recording, petition = recorded("criminal")
    copy = issue_copy(actor=recorded.secretary, petition=petition)
    _, manifest, media = unpack(copies_dir() / copy.file_name, tmp_path / "out")
    assert media.suffix == ".mp4" and manifest["copy"]["container"] == "video/mp4"
    assert sorted(stream_kinds(media)) == ["audio/opus", "audio/opus", "video/h264"]
    original = original_file(recording, tmp_path)
    for track in ("a:0", "a:1", "v:0"):
        copied, sealed = packets(media, track), packets(original, track)
        assert [p.md5 for p in copied] == [p.md5 for p in sealed], track
        # the recording's own timeline: a mark's time is the same moment in the copy
        assert all(abs(c.start - s.start) < 0.002 for c, s in zip(copied, sealed, strict=True))
    call_command("verify", str(copies_dir() / copy.file_name))
    out = capsys.readouterr().out
    assert "FAIL" not in out and "original_manifest_signature" in out
