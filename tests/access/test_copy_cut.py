"""#18 point 2 (R32 for part of a hearing): a copy of a hearing with two closed portions leaves
out every packet of both, keeps every packet outside them, byte for byte (packet hashes of the
copy against the sealed original), lists the intervals as cut in its signed manifest with the
original's digest, and verifies with ``taspa verify``: for the audio-only (Ogg Opus) and the
audio+video (MP4) copy. The video cut runs from keyframe to keyframe, so no kept frame needs a
left-out one and none shows a closed moment."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from taspa.access.copies import copies_dir, issue_copy

from . import copykit
from .copykit import FPS, GOP, Pkt, original_file, packets, unpack

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
recorder_media, recorded = copykit.recorder_media, copykit.recorded  # the fixtures
CLOSED = [(2.0, 3.5), (7.2, 8.1)]  # recording seconds; the witness's mark at 4.0 stays


def touches(packet: Pkt, low: float, high: float) -> bool:
    return packet.start <= high and packet.end >= low


def check_stream(copied: list[Pkt], sealed: list[Pkt], spans: list[tuple[float, float]]):
    """The copy's packets are the original's minus those in the closed portions: none that
    touches one, every one clear of the cut spans, in the original's order."""
    assert len({p.md5 for p in sealed}) == len(sealed)  # every packet tells itself apart
    kept = [p.md5 for p in copied]
    assert set(kept) <= {p.md5 for p in sealed}
    for low, high in CLOSED:
        assert not any(touches(p, low, high) and p.md5 in set(kept) for p in sealed)
    clear = [p.md5 for p in sealed if not any(touches(p, lo, hi) for lo, hi in spans)]
    assert [md5 for md5 in kept if md5 in set(clear)] == clear  # all of them, in order
    order = [p.md5 for p in sealed if p.md5 in set(kept)]
    assert order == kept


@pytest.mark.parametrize(("kind", "tracks"), [("civil", ["a:0", "a:1"]),
                                              ("criminal", ["a:0", "a:1", "v:0"])])  # fmt: skip
def test_r32_copy_leaves_out_two_closed_portions_packet_for_packet(
    recorded, tmp_path, capsys, kind, tracks
):
    recording, petition = recorded(kind)
    copy = issue_copy(actor=recorded.secretary, petition=petition, excluded=CLOSED)
    zip_path = copies_dir() / copy.file_name
    bag, manifest, media = unpack(zip_path, tmp_path / "out")
    excluded = manifest["copy"]["excluded"]
    assert [e["requested"] for e in excluded] == [list(c) for c in CLOSED]
    spans = [tuple(e["cut"]) for e in excluded]
    slack = GOP / FPS if "v:0" in tracks else 0.021  # a GOP with video, a packet without
    for (low, high), (cut_low, cut_high) in zip(CLOSED, spans, strict=True):
        assert cut_low <= low and cut_high >= high  # the whole interval, rounded outward
        assert cut_low >= low - slack and cut_high <= high + slack + 0.021
    assert manifest["copy"]["source"]["sha256"] == recording.sha256
    original = original_file(recording, tmp_path)
    for track in tracks:
        copied, sealed = packets(media, track), packets(original, track)
        check_stream(copied, sealed, spans)
        assert len(copied) < len(sealed)
    if "v:0" in tracks:
        video = packets(media, "v:0")
        for cut_low, _ in spans:  # each resumption is a keyframe: every kept frame decodes
            resumed = next(p for p in video if p.start >= cut_low)
            assert resumed.key
    # no mark inside what was cut is in the copy (with video, the GOPs around the portions)
    outside = [m[0] for m in copykit.MARKS if not any(lo <= m[0] <= hi for lo, hi in spans)]
    assert [m["offset_s"] for m in manifest["marks"]] == outside
    assert outside == ([0.5, 4.0, 9.0] if kind == "civil" else [0.5])
    # the original's manifest (its marks, the portions) stays out; its signature proves the chain
    assert sorted(p.suffix for p in (bag / "data" / "original").iterdir()) == [".p7s"]
    call_command("verify", str(zip_path))
    out = capsys.readouterr().out
    assert "FAIL" not in out and "original_media_signature" in out and "copy_source" in out


def test_r32_a_cut_copy_with_a_flipped_byte_fails_verification(recorded, tmp_path):
    from django.core.management.base import CommandError

    _, petition = recorded("civil")
    copy = issue_copy(actor=recorded.secretary, petition=petition, excluded=CLOSED[:1])
    bag, _, _ = unpack(copies_dir() / copy.file_name, tmp_path / "out")
    manifest = next((bag / "data" / "copy").glob("*.manifest.json"))
    data = manifest.read_bytes().replace(b'"requested":[2.0,3.5]', b'"requested":[2.0,2.5]')
    manifest.write_bytes(data)  # a narrower claim than what was cut
    with pytest.raises(CommandError):
        call_command("verify", str(bag))
