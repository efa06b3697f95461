"""Names of a sealed recording's files, and its digests (R13, R14). Pure: no Django.

On the server a sealed recording is blobs in the store, named by digest (``SealedRecording``).
Wherever it leaves the store — a download, a copy package, the case-file medium, a replica, the
archive, or ``taspa verify`` on a user's disk — it is four files side by side, plus an optional
fifth::

    NAME.ts                     the media, bytes as captured (stream-copied, never re-encoded)
    NAME.ts.p7s                 DER CMS detached signature over the media bytes (R14)
    NAME.manifest.json          canonical JSON manifest (see manifest.py)
    NAME.manifest.json.p7s      DER CMS detached signature over the manifest bytes
    NAME.journal.jsonl          optional: the segment journal, one JSON piece per line

``NAME.ts.p7s`` is written last: a recording is sealed only when it exists, so a crash at any
earlier point leaves a state that ``taspa verify`` reports as unsealed, never as good.

File names are ASCII only (the brief protocol names the file, R13, and the file travels on
media, through zip and BagIt packages and foreign file systems):
``<court code>_<case number>_<YYYY-MM-DD>_h<hearing id>.<ext>``, where Kazakh and Russian
Cyrillic is transliterated (table below, close to the passport/ICAO scheme, with the Kazakh
letters ә ғ қ ң ө ұ ү һ і mapped to their base Latin letter) and any other character except
letters, digits, ``.`` and ``-`` becomes ``-``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

_CYRILLIC = {
    "а": "a", "ә": "a", "б": "b", "в": "v", "г": "g", "ғ": "g", "д": "d", "е": "e", "ё": "e",
    "ж": "zh", "з": "z", "и": "i", "й": "i", "к": "k", "қ": "q", "л": "l", "м": "m", "н": "n",
    "ң": "n", "о": "o", "ө": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ұ": "u",
    "ү": "u", "ф": "f", "х": "kh", "һ": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
    "ъ": "", "ы": "y", "і": "i", "ь": "", "э": "e", "ю": "iu", "я": "ia",
}  # fmt: skip
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def transliterate(text: str) -> str:
    """Kazakh/Russian Cyrillic to ASCII Latin, keeping the case of the first letter."""
    out = []
    for char in text:
        latin = _CYRILLIC.get(char.lower())
        if latin is None:
            # Latin letters with diacritics (Kazakh Latin script: ä, ğ, ...) lose the mark.
            latin = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            out.append(latin)
        elif char.isupper():
            out.append(latin.capitalize())
        else:
            out.append(latin)
    return "".join(out)


def safe_part(text: str) -> str:
    """One field of a file name: ASCII letters, digits, ``.`` and ``-`` only, never empty."""
    cleaned = _UNSAFE.sub("-", transliterate(text)).strip("-.")
    return cleaned or "x"


def recording_file_name(
    court_code: str, case_number: str, hearing_date: date | datetime, hearing_id: int, ext: str
) -> str:
    """``court_case_YYYY-MM-DD_hID.ext``, e.g. ``almaty-bostandyk_2-1234-2024_2024-05-14_h7.ts``.

    The name the brief protocol states (R13).
    """
    day = hearing_date.date() if isinstance(hearing_date, datetime) else hearing_date
    return (
        f"{safe_part(court_code)}_{safe_part(case_number)}_{day.isoformat()}_h{int(hearing_id)}"
        f".{safe_part(ext.lstrip('.'))}"
    )


@dataclass(frozen=True)
class SealedFiles:
    """The paths of one sealed recording (see the module docstring for the layout)."""

    media: Path
    signature: Path
    manifest: Path
    manifest_signature: Path
    journal: Path

    @classmethod
    def beside(cls, media: Path | str) -> SealedFiles:
        media = Path(media)
        base = media.with_suffix("")
        return cls(
            media=media,
            signature=media.with_name(media.name + ".p7s"),
            manifest=base.with_name(base.name + ".manifest.json"),
            manifest_signature=base.with_name(base.name + ".manifest.json.p7s"),
            journal=base.with_name(base.name + ".journal.jsonl"),
        )

    @property
    def is_sealed(self) -> bool:
        """All four required files exist (the media signature is written last)."""
        return all(
            p.exists() for p in (self.media, self.manifest, self.manifest_signature, self.signature)
        )


# The kinds of a sealed recording's blobs, in the order they are listed, sent and packed.
BLOB_KINDS = ("media", "signature", "manifest", "manifest_signature", "journal")


@dataclass(frozen=True)
class SealedRecording:
    """A sealed recording as the blob store holds it: the one definition of its digests.

    ``media`` .. ``journal`` are the lowercase hex SHA-256 names of its blobs (``journal`` is
    empty when none was kept); ``file_name`` is the brief protocol's name (R13) from which the
    other files' names follow (``SealedFiles.beside``). No server path is part of it: every
    reader opens the bytes through the ``BlobStore`` by digest (STYLE 14).
    """

    recording_id: int
    file_name: str
    media: str
    bytes: int
    signature: str
    manifest: str
    manifest_signature: str
    journal: str = ""
    signer_subject: str = ""

    @classmethod
    def of(cls, recording: object) -> SealedRecording:
        """From a ``Recording`` row (duck-typed: this module imports no Django)."""
        return cls(
            recording_id=recording.pk,  # type: ignore[attr-defined]
            file_name=recording.file_name,  # type: ignore[attr-defined]
            media=recording.sha256,  # type: ignore[attr-defined]
            bytes=int(recording.bytes or 0),  # type: ignore[attr-defined]
            signature=recording.signature_digest,  # type: ignore[attr-defined]
            manifest=recording.manifest_digest,  # type: ignore[attr-defined]
            manifest_signature=recording.manifest_signature_digest,  # type: ignore[attr-defined]
            journal=getattr(recording, "journal_digest", "") or "",
            signer_subject=recording.signer_subject,  # type: ignore[attr-defined]
        )

    @property
    def complete(self) -> bool:
        """The four required digests are known (the journal is optional)."""
        return all((self.media, self.signature, self.manifest, self.manifest_signature))

    def digest(self, kind: str) -> str:
        if kind not in BLOB_KINDS:
            raise KeyError(kind)
        return getattr(self, kind)

    def name(self, kind: str) -> str:
        """The file name of ``kind`` in a package, on a medium or in a download."""
        return getattr(SealedFiles.beside(Path(self.file_name)), kind).name

    def blobs(self) -> dict[str, str]:
        """kind -> digest of every blob there is, in ``BLOB_KINDS`` order."""
        return {kind: getattr(self, kind) for kind in BLOB_KINDS if getattr(self, kind)}

    def files_in(self, directory: Path) -> SealedFiles:
        """Where the files lie once written under their names into ``directory``."""
        return SealedFiles.beside(Path(directory) / self.file_name)
