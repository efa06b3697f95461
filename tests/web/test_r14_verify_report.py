"""R14, R19 on the recording page: the verification report speaks the reader's language.

``taspa verify`` prints English (unchanged); the page shows the same checks of the same real
sealed files with each check's name as words, its verdict as a word and its detail as a
sentence of the Kazakh or Russian catalogue, filled with the check's values (the piece that
fails, the digest).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.utils import translation

from sealing.sealkit import Pki, seal
from taspa.sealing import democa
from taspa.sealing.verify import verify_recording
from taspa.web.playback import PlaybackFiles, read_json, store_verdict
from taspa.web.verify_report import CHECK_LABELS, DETAILS, report_rows

SEALING = Path(__file__).resolve().parents[2] / "src" / "taspa" / "sealing"


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    directory = tmp_path_factory.mktemp("verify-report-pki")
    ca = democa.create_ca("Taspa Test Root CA")
    other = democa.create_ca("Some Other CA", key_type="rsa2048")
    (directory / "ca.pem").write_bytes(ca.pem)
    (directory / "other.pem").write_bytes(other.pem)
    return Pki(ca, other, directory / "ca.pem", directory / "other.pem")


def _report(checks, tmp_path: Path, lang: str) -> list[dict]:
    """The rows the page shows, from the verdict as the page stores and reads it."""
    files = PlaybackFiles(tmp_path / "playback")
    store_verdict(files, checks)
    with translation.override(lang):
        return report_rows(read_json(files.verdict))


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_r14_a_sealed_recording_reports_every_check_in_the_readers_language(pki, tmp_path, lang):
    files = seal(tmp_path, pki.signer())
    checks = verify_recording(files.media, trust_anchors=pki.ca_pem)
    assert all(c.ok for c in checks), checks
    rows = _report(checks, tmp_path, lang)
    assert len(rows) == len(checks) == 8
    passed = {"kk": "тексеруден өтті", "ru": "проверка пройдена"}[lang]
    chain = {"kk": "бөлік", "ru": "Частей"}[lang]
    assert all(r["verdict"] == passed and r["detail"] for r in rows), rows
    assert chain in rows[-1]["detail"]
    # the English of taspa verify stays as it was
    assert checks[-1].detail.endswith("…") and " pieces, head " in checks[-1].detail
    text = " ".join(f"{r['label']} {r['detail']}" for r in rows)
    for english in ("segment_chain", "certificate_chain", "absent", "pieces", "chains to"):
        assert english not in text


def test_r19_a_flipped_byte_names_its_piece_in_russian(pki, tmp_path):
    files = seal(tmp_path, pki.signer())
    with open(files.media, "r+b") as media:
        media.seek(300_000)
        byte = media.read(1)
        media.seek(300_000)
        media.write(bytes([byte[0] ^ 0xFF]))
    checks = verify_recording(files.media, trust_anchors=pki.ca_pem)
    segment = next(c for c in checks if c.name == "segment_chain")
    assert not segment.ok and segment.detail.startswith("piece 4 ")  # the CLI's English
    rows = _report(checks, tmp_path, "ru")
    row = rows[[c.name for c in checks].index("segment_chain")]
    assert row["label"] == "Цепочка частей записи" and row["verdict"] == "проверка не пройдена"
    assert row["detail"].startswith("Байты части 4 (с байта 262144, 65536 байт)"), row
    hash_row = rows[[c.name for c in checks].index("media_hash")]
    assert hash_row["verdict"] == "проверка не пройдена" and "отличается" in hash_row["detail"]


def test_r14_a_verdict_kept_before_the_codes_shows_its_verdict_words():
    old = {"checks": [{"name": "media_hash", "ok": True, "detail": "sha256 ab"}]}
    with translation.override("kk"):
        assert report_rows(old) == [
            {
                "ok": True,
                "label": "Медиафайлдың хэші",
                "verdict": "тексеруден өтті",
                "detail": "",
                "technical": "",
            }
        ]


# Where each verdict class takes its code as a positional argument.
POSITION = {"Check": 3, "ChainVerdict": 2, "RevocationVerdict": 3, "TimestampVerdict": 4}


def _codes() -> set[str]:
    """Every code the verifier's checks and verdicts can carry (read from their source)."""
    codes = set()
    for name in ("verify.py", "trust.py", "revocation.py", "timestamps.py"):
        tree = ast.parse((SEALING / name).read_text(encoding="utf-8"))
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
                continue
            position = POSITION.get(call.func.id)
            if position is None:
                continue
            args = [k.value for k in call.keywords if k.arg == "code"]
            args += call.args[position : position + 1]
            codes |= {a.value for a in args if isinstance(a, ast.Constant)}
    return codes


def test_r14_every_code_of_the_verifier_has_its_sentence_and_every_check_its_label():
    codes = _codes()
    assert {"signed_by", "chains_to", "not_revoked", "timestamp_ok", "pieces_ok"} <= codes
    assert codes - set(DETAILS) - {"timestamp_parts"} == set()
    from taspa.sealing.verify import CHECK_NAMES

    assert set(CHECK_NAMES) <= set(CHECK_LABELS)
