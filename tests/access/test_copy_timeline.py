"""R32 with R31: a copy with closed portions cut out keeps the recording's timeline. Every packet
the copy keeps is played at the moment it has in the sealed original (packets matched by their
payload's hash, times as ffprobe reads them from the copy), within one Opus packet (20 ms), most
of all right before and right after each cut: a mark at 00:42:13 is at 00:42:13 of the copy, and
the sound just before a cut is where it was, not a page later (the Ogg demuxer dates packets
from the page's end granule, so an Ogg page spanning a cut moved them by the cut's length)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from taspa.access.copies import copies_dir, issue_copy
from taspa.access.copymedia import MKA, MP4, OGG, Stream, container_for

from . import copykit
from .copykit import original_file, packets, unpack

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
recorder_media, recorded = copykit.recorder_media, copykit.recorded  # the fixtures
CLOSED = [(2.0, 3.5), (7.2, 8.1)]  # recording seconds
PACKET = 0.020  # one Opus packet


def misplaced(copied, sealed) -> list[tuple[int, float, float]]:
    """The copy's packets (index, time in the copy, time in the original) more than one packet
    away from where the original has them."""
    when = {p.md5: p.start for p in sealed}
    assert len(when) == len(sealed)  # every packet tells itself apart
    return [
        (i, round(p.start, 3), round(when[p.md5], 3))
        for i, p in enumerate(copied)
        if abs(p.start - when[p.md5]) > PACKET + 1e-6
    ]


@pytest.mark.parametrize(("kind", "tracks"), [("civil", ["a:0", "a:1"]),
                                              ("criminal", ["a:0", "a:1", "v:0"])])  # fmt: skip
def test_r32_cut_copy_keeps_every_packet_at_its_moment(recorded, tmp_path, kind, tracks):
    recording, petition = recorded(kind)
    copy = issue_copy(actor=recorded.secretary, petition=petition, excluded=CLOSED)
    _, manifest, media = unpack(copies_dir() / copy.file_name, tmp_path / "out")
    spans = [tuple(e["cut"]) for e in manifest["copy"]["excluded"]]
    assert media.suffix == (".mka" if kind == "civil" else ".mp4")  # each packet its own time
    original = original_file(recording, tmp_path)
    for track in tracks:
        copied, sealed = packets(media, track), packets(original, track)
        assert misplaced(copied, sealed) == [], track
        when = {p.md5: p.start for p in sealed}
        for low, high in spans:  # the packets on either side of each cut, named
            before = [p for p in copied if when[p.md5] < low][-1]
            after = next(p for p in copied if when[p.md5] >= high - 1e-6)
            for packet in (before, after):
                assert packet.start == pytest.approx(when[packet.md5], abs=PACKET), (track, low)


def test_r32_an_opus_copy_with_a_gap_is_matroska_one_without_stays_ogg():
    opus = [Stream(i, "audio", "opus", Fraction(1, 90000)) for i in (0, 1)]
    video = Stream(2, "video", "h264", Fraction(1, 90000))
    assert container_for(opus) == OGG  # streamed into the package, no gap to carry
    assert container_for(opus, cut=True) == MKA  # Ogg dates a page, not a packet
    assert container_for([*opus, video], cut=True) == MP4  # MP4 stamps every sample
