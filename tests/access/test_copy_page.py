"""#16 point 4: the copy package's index.html plays the copy offline in Chromium (a plain
<audio>/<video>, nothing fetched from anywhere) and lists the marks as hh:mm:ss buttons that
move the player there; a copy with a closed portion cut out names it and drops its marks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taspa.access.package import MediaCopyFailed, build_copy_package
from taspa.access.policy import Media
from taspa.sealing import democa
from taspa.sealing.layout import SealedFiles
from taspa.sealing.signing import Pkcs12Signer

from .copykit import SECONDS, make_recording, seal_file, unpack

pytestmark = pytest.mark.slow
MARKS = [
    {"speaker": "Судья Ахметов", "role": "судья", "offset_s": 0.5},
    {"speaker": "Свидетель Омарова", "role": "свидетель", "offset_s": 4.0},
    {"speaker": "Истец Әсел Үмбетова", "role": "истец", "offset_s": 9.0},
]


@pytest.fixture(scope="module")
def sealed(tmp_path_factory):
    root = tmp_path_factory.mktemp("page")
    ca = democa.create_ca("Page Test CA")
    signer = Pkcs12Signer(democa.issue_p12(ca, common_name="Айгүл", password="pw"), "pw")
    files = seal_file(make_recording(root / "capture.ts"), root / "sealed", signer, MARKS)
    return files, signer, root


def build(sealed, media: Media, name: str, excluded=()) -> Path:
    files, signer, root = sealed
    built = build_copy_package(
        sealed=files, media=media, signer=signer, name=name, issue={"petition": 1},
        bag_info={}, out_dir=root / "copies", progress=lambda _: None, excluded=excluded,
    )  # fmt: skip
    bag, _, _ = unpack(built.zip_path, root / f"out-{name}")
    return bag


def play(browser, page_path: Path) -> tuple[dict, list[str], list[str]]:
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(page_path.as_uri())
        page.wait_for_function("document.getElementById('media').readyState >= 1", timeout=15000)
        times = page.locator("#marks button").all_inner_texts()
        page.locator("#marks button").last.click()
        target = float(page.locator("#marks button").last.get_attribute("data-t"))
        page.wait_for_function(
            f"Math.abs(document.getElementById('media').currentTime - {target}) < 1"
        )
        state = page.evaluate(
            "(() => { const m = document.getElementById('media');"
            " return {duration: m.duration, error: m.error && m.error.code,"
            " tag: m.tagName, text: document.body.innerText}; })()"
        )
    finally:
        page.close()
    return state, times, requested


@pytest.mark.parametrize(("media", "tag"), [(Media.AUDIO, "AUDIO"), (Media.AUDIO_VIDEO, "VIDEO")])
def test_r31_copy_page_plays_offline_and_jumps_to_a_mark(sealed, browser, media, tag):
    bag = build(sealed, media, f"page-{tag.lower()}")
    state, times, requested = play(browser, bag / "index.html")
    assert state["tag"] == tag and state["error"] is None
    assert SECONDS - 1 < state["duration"] < SECONDS + 1
    assert times == ["00:00:00", "00:00:04", "00:00:09"]
    assert "Омарова" in state["text"] and "2-123/2026" in state["text"]
    assert requested and all(url.startswith("file://") for url in requested), requested


def test_r32_copy_page_names_the_cut_and_drops_its_marks(sealed, browser):
    bag = build(sealed, Media.AUDIO, "page-cut", excluded=[(3.0, 5.0)])
    marks = json.loads((bag / "data" / "marks.json").read_text(encoding="utf-8"))
    assert [m["speaker"] for m in marks] == ["Судья Ахметов", "Истец Әсел Үмбетова"]
    state, times, _ = play(browser, bag / "index.html")
    assert times == ["00:00:00", "00:00:09"] and "Омарова" not in state["text"]
    assert "00:00:02–00:00:05" in state["text"] or "00:00:03–00:00:05" in state["text"]
    assert state["error"] is None


def test_r31_a_copy_ffmpeg_cannot_make_leaves_no_package(sealed, tmp_path):
    """Media ffmpeg cannot read (here: bytes that are no recording): the build fails with
    MediaCopyFailed and leaves nothing in the copies folder, neither a zip nor a part."""
    files, signer, _ = sealed
    broken = tmp_path / "sealed" / files.media.name
    broken.parent.mkdir()
    broken.write_bytes(b"\x47" + bytes(188 * 50))
    for kind in ("signature", "manifest", "manifest_signature"):
        (broken.parent / getattr(files, kind).name).write_bytes(getattr(files, kind).read_bytes())
    out = tmp_path / "copies"
    for media in (Media.AUDIO, Media.AUDIO_VIDEO):
        with pytest.raises(MediaCopyFailed):
            build_copy_package(
                sealed=SealedFiles.beside(broken), media=media, signer=signer, name="broken",
                issue={"petition": 1}, bag_info={}, out_dir=out, progress=lambda _: None,
            )  # fmt: skip
        assert list(out.iterdir()) == []
