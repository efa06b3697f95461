"""The copy package (R31): a BagIt bag (RFC 8493), zipped, that proves itself and plays.

Layout of the zip (one top folder, the bag)::

    <name>/index.html                          a page that plays the copy and lists the marks
                                               (offline: no script or file from elsewhere)
    <name>/bagit.txt, bag-info.txt, manifest-sha256.txt, tagmanifest-sha256.txt
    <name>/data/copy/<media>                   the copy's media (Ogg Opus, MP4 or Matroska)
    <name>/data/copy/<media>.p7s               CMS detached signature over it
    <name>/data/copy/<stem>.manifest.json      what the copy is: a ``taspa-recording/1``
                                               manifest plus a ``copy`` section (petition,
                                               applicant, who issued it, when, the source, the
                                               excluded intervals as cut)
    <name>/data/copy/<stem>.manifest.json.p7s  its signature
    <name>/data/original/...                   the sealed original's signature, manifest and
                                               manifest signature, as sealed (R14); of a copy
                                               with closed portions cut out only the signature
                                               (the original's manifest lists their marks)
    <name>/data/marks.json                     the speaker marks (R12) the copy carries

The media is a stream copy of the sealed original (``copymedia.py``): every packet it holds is
the original's, so the copy manifest names the original's SHA-256 and the original's signature
is in the bag: the chain back to the sealed original holds.

One pass: the sealed original goes from the blob store into ffmpeg's stdin as it is hashed
(``streamed``; a cut, for which ffprobe and ffmpeg seek in it, reads a checked temporary copy
instead), and ffmpeg's output goes into the zip as it is made (Ogg straight from ffmpeg's
stdout; MP4 and Matroska, which ffmpeg must seek in, from its file once), hashed on the way; the
signatures, the BagIt manifests and the zip's own digest are made from digests already known,
so no media is read twice (the media's SHA-256 and the zip's on threads of their own, beside
zipfile's CRC-32). A cut lists no more than the packets around each excluded interval
(``copymedia.plan_window``: a few seconds at either edge, the interior counted by ffprobe, not
listed) and drops by byte position; every packet is listed only when that cannot settle it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import copy as copying
import fcntl
import hashlib
import html
import io
import itertools
import json
import logging
import math
import os
import queue
import subprocess
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import IO, Any, Protocol

import bagit
from asn1crypto import cms
from cryptography import x509
from pyhanko.sign.general import extract_certificate_info, extract_signer_info
from pyhanko.sign.validation.generic_cms import validate_sig_integrity

from taspa.access import copymedia
from taspa.access.copymedia import Container, Cut, Stream
from taspa.access.policy import Media
from taspa.sealing.layout import SealedFiles
from taspa.sealing.manifest import canonical_bytes, certificate_summary
from taspa.sealing.signing import Signer
from taspa.sealing.tools import run_tool
from taspa.sealing.trust import validate_chain
from taspa.sealing.verify import (
    Check,
    UnreadableInput,
    detached_signature_checks,
    resolve_trust_anchors,
    verify_recording,
)

log = logging.getLogger("taspa.access")
Progress = Callable[[str], None]
FFMPEG_TIMEOUT_S = 6 * 3600
CHUNK = 1 << 20
ZIP64_FROM = 1 << 31  # a member that may pass 2 GiB gets ZIP64 sizes from the start


@dataclass(frozen=True)
class BuiltPackage:
    zip_path: Path
    sha256: str
    bytes: int
    media_sha256: str
    media_name: str
    media_type: str = "application/octet-stream"
    excluded: tuple[Cut, ...] = field(default=())


class MediaCopyFailed(RuntimeError):
    """ffmpeg could not make the copy's media."""


class MediaSource(Protocol):
    """The original's media read once from the blob store (``reading.StreamedMedia``): fed
    to ffmpeg's stdin instead of a path, hashed as it goes. ``chunks()`` raises (at its end,
    before its last chunk) when the bytes do not match the sealed digest; ``head(n)``: the
    first bytes, for ffprobe."""

    name: str
    bytes: int

    def chunks(self) -> Iterator[bytes]: ...

    def head(self, size: int) -> bytes: ...


PROBE_HEAD = 8 << 20  # bytes of a streamed original ffprobe reads for its streams


# --- the original's streams and packets (ffprobe) ---------------------------------------------


def probe_streams(media: Path, head: bytes | None = None) -> list[Stream]:
    """The original's streams (index, kind, codec, time base); ``head``: the first bytes of a
    streamed original, read by ffprobe from its stdin instead of ``media``."""
    command = ["ffprobe", "-v", "error", "-show_entries",
               "stream=index,codec_type,codec_name,time_base", "-of", "json",
               str(media) if head is None else "pipe:0"]  # fmt: skip
    if head is None:
        done = run_tool(command, timeout=120)
        ok, stdout, stderr = done.ok, done.stdout, done.stderr
    else:
        ran = subprocess.run(command, input=head, capture_output=True, timeout=120, check=False)
        ok, stdout = ran.returncode == 0, ran.stdout.decode(errors="replace")
        stderr = ran.stderr.decode(errors="replace")
    if not ok:
        raise MediaCopyFailed(f"ffprobe could not read the recording: {stderr.strip()[:300]}")
    return [
        Stream(
            index=int(s["index"]),
            kind=str(s.get("codec_type", "")),
            codec=str(s.get("codec_name", "")),
            time_base=Fraction(str(s.get("time_base", "1/90000"))),
        )
        for s in json.loads(stdout).get("streams", [])
    ]


def _probe_command(media: Path, streams: Sequence[Stream], entries: list[str]) -> list[str]:
    command = ["ffprobe", "-v", "error", *entries, "-of", "csv=p=0"]
    if all(s.kind == copymedia.AUDIO for s in streams):  # no video parsed for nothing
        command += ["-select_streams", "a"]
    return [*command, str(media)]


def _interval(start: float | None, end: float | None) -> list[str]:
    """ffprobe's ``-read_intervals`` from ``start`` (None: the first packet, no seek) to the
    first packet at or after ``end`` (None: the last)."""
    if start is None and end is None:
        return []
    text = ("" if start is None else f"{start:.6f}") + ("" if end is None else f"%{end:.6f}")
    return ["-read_intervals", text]


def probe_packets(
    media: Path,
    streams: Sequence[Stream],
    start: float | None = None,
    end: float | None = None,
) -> dict[int, copymedia.PacketTable]:
    """The packets of ``streams`` in decode order (read only for a copy with a cut), parsed
    as ffprobe prints them: every one, or those ffprobe reads from ``start`` to ``end``."""
    entries = ["-show_entries", "packet=stream_index,pts,dts,duration,pos,flags"]
    command = _probe_command(media, streams, [*entries, *_interval(start, end)])
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        timer = threading.Timer(FFMPEG_TIMEOUT_S, process.kill)
        timer.start()
        try:
            assert process.stdout is not None
            tables = copymedia.parse_packets(process.stdout, streams)
            code = process.wait()
        finally:
            timer.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
        if code:
            errors.seek(0)
            text = errors.read().decode(errors="replace").strip()[:300]
            raise MediaCopyFailed(f"ffprobe could not list the packets: {text}")
    return tables


def count_packets(
    media: Path, streams: Sequence[Stream], start: float | None, end: float | None
) -> dict[int, int]:
    """How many packets of each of ``streams`` ffprobe reads from ``start`` to ``end`` (the
    same reading as ``probe_packets``'), counted by ffprobe without listing them."""
    entries = ["-count_packets", "-show_entries", "stream=index,nb_read_packets"]
    done = run_tool(_probe_command(media, streams, [*entries, *_interval(start, end)]), timeout=600)
    if not done.ok:
        raise MediaCopyFailed(f"ffprobe could not count the packets: {done.stderr.strip()[:300]}")
    counts = {}
    for line in done.stdout.splitlines():
        index, _, count = line.partition(",")
        if index.isdigit():
            counts[int(index)] = int(count) if count.isdigit() else 0
    return counts


EDGE_S = 4.0  # s listed packet by packet on either side of a cut's edges (then doubled)
ATTEMPTS = 4


def _around(
    media: Path,
    streams: Sequence[Stream],
    interval: tuple[float, float],
    margins: tuple[float, float],
    last_s: float | None,
) -> copymedia.Window:
    """Read the packets around ``interval``: listed near its edges, counted in between. One
    running to the end (``b`` infinite) has its tail listed up to the recording's last packet
    (``last_s``, where ffprobe estimates the recording ends)."""
    (a, b), (before, after) = interval, margins
    start = a - before if a - before > 0 else None  # None: from the first packet, no seek
    end = None if math.isinf(b) else b + after
    back = (last_s if end is None else b) - before  # type: ignore[operator]
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:  # three ffprobes
        head = pool.submit(probe_packets, media, streams, start, a + before)
        tail = pool.submit(probe_packets, media, streams, back if back > 0 else None, end)
        counted = pool.submit(count_packets, media, streams, start, end)
        listed = tail.result()
        return copymedia.Window(
            head=head.result(), tail=listed, counted=counted.result(),
            from_start=start is None, to_end=end is None or _ended(listed, streams, end),
        )  # fmt: skip


def _recording_end(media: Path) -> float | None:
    """Where ffprobe estimates the recording's timeline ends (seconds), None if it cannot."""
    done = run_tool(
        ["ffprobe", "-v", "error", "-show_entries", "format=start_time,duration", "-of", "json",
         str(media)],
        timeout=120,
    )  # fmt: skip
    try:
        found = json.loads(done.stdout)["format"] if done.ok else {}
        return float(found.get("start_time", 0)) + float(found["duration"])
    except (ValueError, KeyError, TypeError):
        return None


def _ended(
    tables: Mapping[int, copymedia.PacketTable], streams: Sequence[Stream], end: float
) -> bool:
    """Whether a listing up to ``end`` stopped at the recording's end rather than there: its
    last packet lies well before ``end`` (it stops at the first packet at or after it)."""
    last = max(
        (float(t.pts[i] * s.time_base) for s in streams if (t := tables.get(s.index))
         for i in range(max(0, len(t) - 4), len(t))),
        default=None,
    )  # fmt: skip
    return last is None or last < end - 1.0


def _plan_around(
    media: Path, streams: Sequence[Stream], excluded: Sequence[tuple[float, float]]
) -> tuple[list[Cut], dict[int, list[tuple[int, int | None]]]] | None:
    """The cut of every excluded interval planned from the packets around it (byte-position
    ranges for ``copy_command(on="pos")``); None when a window settles none of them."""
    video = any(s.kind == copymedia.VIDEO for s in streams)
    last_s = _recording_end(media) if any(math.isinf(b) for _, b in excluded) else None
    cuts, drops = [], {}
    for a, b in excluded:
        if not (a <= b) or math.isinf(a):
            raise ValueError(f"an excluded interval must run forward: [{a}, {b}]")
        if math.isinf(b) and last_s is None:
            return None
        before, after, plan = EDGE_S, EDGE_S * (3 if video else 1), None
        for _ in range(ATTEMPTS):  # a keyframe farther on, or a seek that landed early
            try:
                window = _around(media, streams, (max(a, 0.0), b), (before, after), last_s)
            except MediaCopyFailed:  # ffprobe cannot seek in it: every packet, then
                return None
            plan = copymedia.plan_window(streams, window, (a, b))
            if plan is not None:
                break
            before, after = before * 2, after * 2
        if plan is None:
            return None
        cuts.append(plan.cut)
        for index, ranges in plan.drops.items():
            drops.setdefault(index, []).extend(ranges)
    return cuts, drops


# --- writing the bag straight into a zip stream ------------------------------------------------


class _Digest:
    """A SHA-256 computed on a thread of its own, in the order the data came (hashlib lets
    go of the GIL on large buffers: the media's digest, the zip's and zipfile's CRC-32 are
    computed side by side, not one after the other). ``hexdigest`` waits for the last."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._queue: queue.Queue = queue.Queue(maxsize=16)  # at most 16 MiB waiting
        self._thread = threading.Thread(target=self._run, name="copy-sha256", daemon=True)
        self._thread.start()
        self._digest: str | None = None

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            self._sha.update(data)

    def update(self, data: bytes) -> None:
        self._queue.put(data if isinstance(data, bytes) else bytes(data))  # kept as it was

    def hexdigest(self) -> str:
        if self._digest is None:
            self._queue.put(None)
            self._thread.join()
            self._digest = self._sha.hexdigest()
        return self._digest


class _HashingSink(io.RawIOBase):
    """A write-only, unseekable file: zipfile writes data descriptors instead of seeking back,
    so the zip's SHA-256 is known when it is closed."""

    def __init__(self, target: IO[bytes]) -> None:
        self._target = target
        self.sha = _Digest()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.sha.update(data)
        self._target.write(data)
        self.size += len(data)
        return len(data)


class _ZipBag:
    """A BagIt bag written member by member into a zip: each file hashed as it is written."""

    def __init__(self, archive: zipfile.ZipFile, name: str) -> None:
        self.archive, self.name = archive, name
        self.payload: dict[str, tuple[str, int]] = {}
        self.tags: dict[str, tuple[str, int]] = {}

    def _member(self, rel: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(f"{self.name}/{rel}", date_time=datetime.now().timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED  # media is compressed already
        info.external_attr = 0o644 << 16
        return info

    def _note(self, rel: str, digest: str, size: int) -> None:
        (self.payload if rel.startswith("data/") else self.tags)[rel] = (digest, size)

    def add(self, rel: str, data: bytes) -> str:
        self.archive.writestr(self._member(rel), data)
        digest = hashlib.sha256(data).hexdigest()
        self._note(rel, digest, len(data))
        return digest

    def add_stream(self, rel: str, chunks: Iterator[bytes], *, large: bool) -> tuple[str, int]:
        sha, size = _Digest(), 0
        try:
            with self.archive.open(self._member(rel), "w", force_zip64=large) as member:
                for chunk in chunks:
                    sha.update(chunk)
                    member.write(chunk)
                    size += len(chunk)
        finally:
            digest = sha.hexdigest()  # its thread ends, whatever happened
        self._note(rel, digest, size)
        return digest, size

    def finish(self, bag_info: Mapping[str, str]) -> None:
        """bagit.txt, bag-info.txt and both manifests, from the digests noted (RFC 8493)."""
        self.add("bagit.txt", b"BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n")
        octets = sum(size for _, size in self.payload.values())
        info = {
            "Bag-Software-Agent": "Taspa",
            "Bagging-Date": datetime.now(UTC).date().isoformat(),
            **bag_info,
            "Payload-Oxum": f"{octets}.{len(self.payload)}",
        }
        lines = "".join(f"{key}: {value}\n" for key, value in info.items())
        self.add("bag-info.txt", lines.encode("utf-8"))
        self.add("manifest-sha256.txt", _manifest_lines(self.payload))
        self.add("tagmanifest-sha256.txt", _manifest_lines(self.tags))


def _manifest_lines(files: Mapping[str, tuple[str, int]]) -> bytes:
    return "".join(f"{digest}  {rel}\n" for rel, (digest, _) in sorted(files.items())).encode()


# --- the copy's media ------------------------------------------------------------------------


def _provenance(command: list[str], source: Path, target_name: str) -> list[str]:
    """The ffmpeg command as run, naming files, never where they lay on the server (an
    original fed through stdin is named as the file it is)."""
    named = [source.name if part in (str(source), "pipe:0") else part for part in command[:-1]]
    return [*named, target_name]


class _Feeder:
    """Feeds a streamed original into ffmpeg's stdin on a thread of its own (the hashing is
    done there, beside ffmpeg and the zip's threads). If ffmpeg stops reading first, the rest
    is still read and hashed (unless ``abandon``ed), so a mismatch is found and reported as
    the checked copy reports it, whatever ffmpeg made of the bytes."""

    def __init__(self, stdin: IO[bytes], source: MediaSource) -> None:
        self._stdin, self._source = stdin, source
        self._abandoned = threading.Event()
        self.error: BaseException | None = None
        self.complete = False  # every byte was fed and hashed to the sealed digest
        with contextlib.suppress(OSError):
            fcntl.fcntl(stdin.fileno(), fcntl.F_SETPIPE_SZ, CHUNK)
        self._thread = threading.Thread(target=self._run, name="copy-feed", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        chunks = self._source.chunks()
        fed = True
        try:
            for chunk in chunks:
                if self._abandoned.is_set():
                    return
                if fed:
                    try:
                        self._stdin.write(chunk)
                    except (BrokenPipeError, ValueError):  # ffmpeg is gone: hash the rest
                        fed = False
            self.complete = fed
        except BaseException as error:  # BytesChanged, BlobNotFound, a store error
            self.error = error
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
            with contextlib.suppress(OSError, ValueError):
                self._stdin.close()

    def abandon(self) -> None:
        self._abandoned.set()

    def join(self) -> None:
        self._thread.join()

    def check(self) -> None:
        """Raise what the read found wrong with the bytes (before ffmpeg's own failure)."""
        if self.error is not None:
            raise self.error


def _popen(command: list[str], source: MediaSource | None, **kwargs: Any):
    stdin = subprocess.PIPE if source is not None else subprocess.DEVNULL
    process = subprocess.Popen(command, stdin=stdin, **kwargs)
    feeder = _Feeder(process.stdin, source) if source is not None else None  # type: ignore[arg-type]
    return process, feeder


def _finish(process: subprocess.Popen, feeder: _Feeder | None, errors: IO[bytes]) -> None:
    """After ffmpeg ended: a mismatch of the fed bytes first, then ffmpeg's failure, then an
    original that ffmpeg did not read to its end."""
    if feeder is not None:
        feeder.join()
        feeder.check()
    if process.returncode:
        errors.seek(0)
        text = errors.read().decode(errors="replace").strip()[:300]
        raise MediaCopyFailed(f"ffmpeg could not copy the recording: {text}")
    if feeder is not None and not feeder.complete:
        raise MediaCopyFailed("ffmpeg stopped reading the recording before its end")


def _stop(process: subprocess.Popen, feeder: _Feeder | None) -> None:
    if process.poll() is None:
        if feeder is not None:
            feeder.abandon()  # stopped here, not by ffmpeg: no need to hash the rest
        process.kill()
        process.wait()
    if feeder is not None:
        feeder.join()


def _ffmpeg_stdout(
    command: list[str], progress: Progress, source: MediaSource | None = None
) -> Iterator[bytes]:
    """ffmpeg's stdout in chunks; raises ``MediaCopyFailed`` when it fails, and what
    ``source.chunks()`` raised (after ffmpeg's last byte) when it is fed a streamed original
    that does not match its digest."""
    with tempfile.TemporaryFile() as errors:
        process, feeder = _popen(command, source, stdout=subprocess.PIPE, stderr=errors)
        timer = threading.Timer(FFMPEG_TIMEOUT_S, process.kill)
        timer.start()
        try:
            assert process.stdout is not None
            fd = process.stdout.fileno()
            with contextlib.suppress(OSError):  # a deep pipe: ffmpeg never waits on a busy CPU
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, CHUNK)
            while chunk := process.stdout.read(CHUNK):  # whole MiBs: few calls per byte
                yield chunk
            process.wait()
        finally:
            timer.cancel()
            _stop(process, feeder)
        _finish(process, feeder, errors)
        progress("stream copy done")


def _ffmpeg_file(command: list[str], progress: Progress, source: MediaSource | None) -> None:
    """ffmpeg writing a file (a container it seeks back in), its input fed from ``source``."""
    with tempfile.TemporaryFile() as errors:
        process, feeder = _popen(command, source, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            process.wait(timeout=FFMPEG_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pass
        finally:
            _stop(process, feeder)
        _finish(process, feeder, errors)
        progress("stream copy done")


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb", buffering=0) as stream:
        while chunk := stream.read(CHUNK):
            yield chunk


@dataclass(frozen=True)
class _MediaPlan:
    streams: list[Stream] | None  # None: every audio stream, not probed
    container: Container
    cuts: list[Cut]
    drops: dict[int, list[tuple[int, int | None]]]
    name: str
    on: str = "n"  # the drops are ranges of packet counts ("n") or byte positions ("pos")


def _name(source: Path, media: Media, container: Container) -> str:
    kind = ".audio" if media == Media.AUDIO else ""
    return f"{source.with_suffix('').name}{kind}{container.suffix}"


def _plan(
    source: Path,
    media: Media,
    excluded: Sequence[tuple[float, float]],
    streamed: MediaSource | None = None,
) -> _MediaPlan:
    head = None if streamed is None else streamed.head(PROBE_HEAD)
    streams = copymedia.kept_streams(probe_streams(source, head), media == Media.AUDIO_VIDEO)
    if not any(s.kind == copymedia.AUDIO for s in streams):
        raise MediaCopyFailed("the recording has no audio stream to copy")
    cuts, drops, on = [], {}, "n"
    if excluded:
        if streamed is not None:
            raise ValueError("a cut seeks in the original: it needs the checked file")
        around = _plan_around(source, streams, sorted(excluded))
        if around is not None:  # the packets around each cut settle it: by byte position
            (cuts, drops), on = around, "pos"
        else:  # every packet listed, by count
            packets = probe_packets(source, streams)
            cuts, drops = copymedia.plan_cut(streams, packets, sorted(excluded))
    container = copymedia.container_for(streams, cut=bool(drops))  # a gap: not Ogg
    return _MediaPlan(streams, container, cuts, drops, _name(source, media, container), on)


def _quick_plan(
    source: Path,
    media: Media,
    excluded: Sequence[tuple[float, float]],
    streamed: MediaSource | None = None,
):
    """The recorder's audio is Opus: an audio-only copy without a cut goes into Ogg at once,
    without a probe first (``streams`` None: every audio stream); ``_write_media`` falls
    back to ``_plan`` when ffmpeg refuses that (another codec) before writing a byte."""
    if media == Media.AUDIO and not excluded:
        return _MediaPlan(None, copymedia.OGG, [], {}, _name(source, media, copymedia.OGG))
    return _plan(source, media, excluded, streamed)


def _write_media(
    bag: _ZipBag,
    sealed: SealedFiles,
    plan: _MediaPlan,
    work: Path,
    progress: Progress,
    streamed: MediaSource | None = None,
) -> tuple[str, int, list[str], _MediaPlan]:
    """Stream-copy the media into the bag; its SHA-256, size, how it was made, and the plan
    as it was carried out. ``streamed``: the original fed to ffmpeg's stdin from the blob
    store (``sealed.media`` is then only its name), else ffmpeg reads ``sealed.media``."""
    large = (streamed.bytes if streamed else sealed.media.stat().st_size) >= ZIP64_FROM
    source = "pipe:0" if streamed is not None else str(sealed.media)
    if plan.container.streamable:
        command = copymedia.copy_command(
            source, "pipe:1", plan.streams, plan.container, plan.drops, plan.on
        )
        chunks = _ffmpeg_stdout(command, progress, streamed)
        try:
            first = next(chunks, b"")
        except MediaCopyFailed:
            if plan.streams is not None:
                raise
            again = _plan(sealed.media, Media.AUDIO, (), streamed)
            return _write_media(bag, sealed, again, work, progress, streamed)
        rel = f"data/copy/{plan.name}"
        sha, size = bag.add_stream(rel, itertools.chain([first], chunks), large=large)
        return sha, size, _provenance(command, sealed.media, plan.name), plan
    target = work / plan.name
    command = copymedia.copy_command(
        source, str(target), plan.streams, plan.container, plan.drops, plan.on
    )
    _ffmpeg_file(command, progress, streamed)
    sha, size = bag.add_stream(f"data/copy/{plan.name}", _file_chunks(target), large=large)
    target.unlink()
    return sha, size, _provenance(command, sealed.media, plan.name), plan


# --- manifests, marks and the page --------------------------------------------------------------


def _inside(offset: Any, cuts: Sequence[Cut]) -> bool:
    try:
        moment = float(offset)
    except (TypeError, ValueError):
        return False
    for cut in cuts:
        low, high = cut.requested
        if cut.start_s is not None:
            low, high = min(low, cut.start_s), max(high, cut.end_s or high)
        if low <= moment <= high:
            return True
    return False


def copy_marks(original: Mapping[str, Any], cuts: Sequence[Cut]) -> list[dict[str, Any]]:
    """The original's marks a copy carries: none inside an excluded interval (R32)."""
    return [m for m in original.get("marks", []) if not _inside(m.get("offset_s"), cuts)]


def _copy_manifest(
    original: Mapping[str, Any],
    media: tuple[str, str, int],
    signer: Signer,
    issue: Mapping[str, Any],
    marks: list[dict[str, Any]],
) -> dict[str, Any]:
    name, sha, size = media
    manifest = copying.deepcopy(dict(original))
    manifest["file"] = {**manifest["file"], "name": name, "sha256": sha, "bytes": size}
    manifest["segments"] = {"algorithm": None, "chain_head": None, "pieces": None}
    manifest["secretary"] = {
        **manifest.get("secretary", {}),
        "certificate": certificate_summary(signer.certificate),
    }
    manifest["marks"] = marks
    manifest["copy"] = dict(issue)
    return manifest


def _clock(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


PAGE = """<!doctype html>
<html lang="kk"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; media-src 'self' file:; \
style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:1rem;max-width:60rem}}
audio,video{{width:100%;max-width:60rem}} ol{{padding-left:1.5rem}} li{{margin:.3rem 0}}
button{{font:inherit;font-variant-numeric:tabular-nums;cursor:pointer}}
.cut{{color:#8a4b00}}
</style></head><body>
<h1>{title}</h1>
<p>{case}</p>
{player}
<p id="now" aria-live="off">00:00:00</p>
{excluded}
<h2>Сөйлеушілер белгілері / Отметки выступающих</h2>
<ol id="marks">{marks}</ol>
<p><small>{files}</small></p>
<script>
const media = document.getElementById("media");
const now = document.getElementById("now");
const clock = (s) => new Date(Math.max(0, Math.floor(s)) * 1000).toISOString().slice(11, 19);
media.addEventListener("timeupdate", () => {{ now.textContent = clock(media.currentTime); }});
for (const button of document.querySelectorAll("button[data-t]")) {{
  button.addEventListener("click", () => {{
    media.currentTime = Number(button.dataset.t);
    media.play();
  }});
}}
</script>
</body></html>
"""


def copy_page(
    *, media_rel: str, video: bool, marks: Sequence[Mapping[str, Any]], cuts: Sequence[Cut],
    original: Mapping[str, Any],
) -> str:  # fmt: skip
    """``index.html``: plays the copy with a plain <audio>/<video> and lists the marks, each
    time a button that moves the player there (hh:mm:ss of the recording's own timeline)."""
    esc = html.escape
    tag = "video" if video else "audio"
    player = f'<{tag} id="media" controls preload="metadata" src="{esc(media_rel)}"></{tag}>'
    items = []
    for mark in marks:
        try:
            at = float(mark.get("offset_s", 0))
        except (TypeError, ValueError):
            continue
        who = " — ".join(esc(str(mark[k])) for k in ("speaker", "role") if mark.get(k))
        items.append(
            f'<li><button type="button" data-t="{at:.3f}">{_clock(at)}</button> {who}</li>'
        )
    excluded = ""
    if cuts:
        spans = ", ".join(
            f"{_clock(c.start_s)}–{_clock(c.end_s)}" for c in cuts if c.start_s is not None
        )
        excluded = (
            '<p class="cut">Жабық отырыс бөліктері көшірмеге енгізілмеген / Закрытые части '
            f"заседания в копию не включены: {spans}</p>"
        )
    hearing = original.get("hearing") or {}
    case = esc(str((hearing.get("case") or {}).get("number") or ""))
    court = esc(str((hearing.get("court") or {}).get("name") or ""))
    return PAGE.format(
        title="Сот отырысы жазбасының көшірмесі / Копия записи судебного заседания",
        case=" · ".join(part for part in (court, f"Іс / Дело № {case}" if case else "") if part),
        player=player,
        excluded=excluded,
        marks="".join(items) or "<li>—</li>",
        files=esc(media_rel),
    )


def _write_signed(
    bag: _ZipBag, signer: Signer, media_name: str, media_sha: str, manifest: dict[str, Any]
) -> None:
    files = SealedFiles.beside(Path("data/copy") / media_name)
    data = canonical_bytes(manifest)
    bag.add(files.manifest.as_posix(), data)
    bag.add(files.manifest_signature.as_posix(), signer.sign_digest(hashlib.sha256(data).digest()))
    bag.add(files.signature.as_posix(), signer.sign_digest(bytes.fromhex(media_sha)))


def build_copy_package(
    *,
    sealed: SealedFiles,
    media: Media,
    signer: Signer,
    name: str,
    issue: dict[str, Any],
    bag_info: dict[str, str],
    out_dir: Path,
    progress: Progress = log.info,
    excluded: Sequence[tuple[float, float]] = (),
    streamed: MediaSource | None = None,
) -> BuiltPackage:
    """Build the zipped bag ``out_dir/name.zip`` for one petition (R31); see the module doc.

    ``streamed``: the original's media fed to ffmpeg from the blob store as it is hashed
    (``sealed.media`` need not exist then; never with ``excluded``): whatever ``streamed``
    raises about its bytes leaves no package and nothing signed.

    ``excluded``: intervals of the recording's timeline (seconds, as marks' ``offset_s``) the
    copy leaves out (R32 for closed portions), each cut whole at packet boundaries and listed,
    as cut, in the copy's signed manifest. Raises ``MediaCopyFailed`` when ffmpeg fails."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = _quick_plan(sealed.media, media, excluded, streamed)
    original_bytes = sealed.manifest.read_bytes()
    original = json.loads(original_bytes)
    partial = out_dir / f".{name}.zip.part"
    progress(f"copying {media.value} from {sealed.media.name}")
    sink = None
    try:
        with (
            tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as temp,
            partial.open("wb") as raw,
        ):
            sink = _HashingSink(raw)
            with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                bag = _ZipBag(archive, name)
                media_sha, size, method, plan = _write_media(
                    bag, sealed, plan, Path(temp), progress, streamed
                )
                made = (media_sha, size, method)
                _write_rest(bag, sealed, plan, signer, issue, original, original_bytes, made, media)
                bag.finish(bag_info)
    except BaseException:
        partial.unlink(missing_ok=True)  # no half package is ever left to be taken for one
        if sink is not None:
            sink.sha.hexdigest()  # its thread ends
        raise
    target = out_dir / f"{name}.zip"
    os.replace(partial, target)
    progress(f"done: {target.name}, {sink.size} bytes")
    return BuiltPackage(
        target, sink.sha.hexdigest(), sink.size, media_sha, plan.name,
        plan.container.mime, tuple(plan.cuts),
    )  # fmt: skip


def _write_rest(
    bag: _ZipBag,
    sealed: SealedFiles,
    plan: _MediaPlan,
    signer: Signer,
    issue: dict[str, Any],
    original: dict[str, Any],
    original_bytes: bytes,
    made: tuple[str, int, list[str]],
    media: Media,
) -> None:
    """Everything but the media: the original's signed files, the copy's signed manifest, the
    marks and the page (all small; the media's digest is known)."""
    media_sha, size, method = made
    kinds = ("signature",) if plan.cuts else ("signature", "manifest", "manifest_signature")
    for kind in kinds:
        path = getattr(sealed, kind)
        bag.add(f"data/original/{path.name}", path.read_bytes())
    source = {
        "file": sealed.media.name,
        "sha256": original["file"]["sha256"],
        "manifest_sha256": hashlib.sha256(original_bytes).hexdigest(),
    }
    issue = {
        **issue,
        "media": media.value,
        "container": plan.container.mime,
        "method": method,
        "source": source,
        "excluded": [cut.as_manifest() for cut in plan.cuts],
    }
    marks = copy_marks(original, plan.cuts)
    manifest = _copy_manifest(original, (plan.name, media_sha, size), signer, issue, marks)
    _write_signed(bag, signer, plan.name, media_sha, manifest)
    bag.add("data/marks.json", json.dumps(marks, ensure_ascii=False, indent=1).encode("utf-8"))
    page = copy_page(
        media_rel=f"data/copy/{plan.name}",
        video=any(s.kind == copymedia.VIDEO for s in plan.streams or ()),
        marks=marks,
        cuts=plan.cuts,
        original=original,
    )
    bag.add("index.html", page.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Verification (``taspa verify copy.zip``)


def _extract(path: Path, into: Path) -> Path:
    """Unzip safely (no absolute names, no ``..``) and return the bag folder."""
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                parts = Path(member).parts
                if member.startswith("/") or ".." in parts:
                    raise UnreadableInput(f"{path}: unsafe name in the zip: {member}")
            archive.extractall(into)
    except (zipfile.BadZipFile, OSError) as error:
        raise UnreadableInput(f"{path}: not a readable zip: {error}") from None
    tops = [p for p in into.iterdir() if p.is_dir()]
    if len(tops) != 1:
        raise UnreadableInput(f"{path}: expected one bag folder in the zip")
    return tops[0]


def _bag_check(bag_dir: Path) -> Check:
    try:
        bagit.Bag(str(bag_dir)).validate(processes=1)
    except bagit.BagError as error:
        return Check("bag_fixity", False, str(error)[:500])
    return Check("bag_fixity", True, "BagIt manifests and payload match (SHA-256)")


def _prefixed(prefix: str, checks: list[Check]) -> list[Check]:
    return [Check(f"{prefix}{c.name}", c.ok, c.detail) for c in checks]


def _original_checks(data: Path, copy_manifest: dict[str, Any], anchors: list) -> list[Check]:
    """The chain back to the sealed original: its manifest is authentic and names the source
    the copy was made from; a full copy is verified against the original's own signature."""
    source = copy_manifest.get("copy", {}).get("source", {})
    original = SealedFiles.beside(data / "original" / str(source.get("file", "missing")))
    copy_media = data / "copy" / copy_manifest["file"]["name"]
    if copy_media.name == original.media.name:
        return _prefixed(
            "original_",
            verify_recording(
                copy_media,
                signature_path=original.signature,
                manifest_path=original.manifest,
                manifest_signature_path=original.manifest_signature,
                trust_anchors=anchors,
            ),
        )
    cut = bool(copy_manifest.get("copy", {}).get("excluded"))
    return _source_checks(original, source, anchors, cut)


def _digest_signature_checks(
    names: tuple[str, str], signature_path: Path, sha256_hex: str, anchors: list
) -> list[Check]:
    """A detached CMS signature over content known by its SHA-256 only, and its signer's
    certificate chain (the content, the original's media, is not in the package)."""
    signature_name, chain_name = names
    if not signature_path.is_file():
        return [Check(signature_name, False, f"{signature_path.name} is missing"),
                Check(chain_name, False, "no signature to take the certificate from")]  # fmt: skip
    try:
        signed = cms.ContentInfo.load(signature_path.read_bytes(), strict=True)["content"]
        signer_info = extract_signer_info(signed)
        info = extract_certificate_info(signed)
        intact, valid = validate_sig_integrity(
            signer_info, info.signer_cert, "data", bytes.fromhex(sha256_hex)
        )
    except Exception as error:  # asn1crypto and pyHanko raise many types on garbage input
        return [Check(signature_name, False, f"not a CMS signature over a SHA-256: {error}"),
                Check(chain_name, False, "no readable signature")]  # fmt: skip
    signer = x509.load_der_x509_certificate(info.signer_cert.dump())
    ok = intact and valid
    detail = f"signed by {signer.subject.rfc4514_string()}" if ok else "does not sign that digest"
    signed_at = next(
        (a["values"][0].native for a in signer_info["signed_attrs"]
         if a["type"].native == "signing_time"),
        None,
    )  # fmt: skip
    chain = validate_chain(
        signer,
        intermediates=[x509.load_der_x509_certificate(c.dump()) for c in info.other_certs],
        anchors=anchors,
        moment=signed_at or datetime.now(UTC),
    )
    if not anchors:
        chain_check = Check(chain_name, False, "no trust anchors given")
    else:
        chain_check = Check(chain_name, chain.ok, chain.detail)
    return [Check(signature_name, ok, detail), chain_check]


def _signed_source_checks(
    original: SealedFiles, source: dict[str, Any], anchors: list
) -> list[Check]:
    """A copy with closed portions cut out carries the original's media signature only (its
    manifest lists the closed portions' marks): that signature signs the SHA-256 the copy names
    as its source, so the copy still leads back to the sealed original."""
    digest = str(source.get("sha256", ""))
    checks = _digest_signature_checks(
        ("original_media_signature", "original_certificate_chain"),
        original.signature,
        digest,
        anchors,
    )
    detail = f"made from {source.get('file')} (sha256 {digest}), closed portions cut out"
    return [*checks, Check("copy_source", checks[0].ok, detail)]


def _source_checks(
    original: SealedFiles, source: dict[str, Any], anchors: list, cut: bool
) -> list[Check]:
    if cut and not original.manifest.is_file():
        return _signed_source_checks(original, source, anchors)
    if not original.manifest.is_file():
        return [Check("original_manifest", False, "the original's manifest is missing")]
    data = original.manifest.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    signature_checks = detached_signature_checks(
        ("original_manifest_signature", "original_certificate_chain"),
        original.manifest_signature,
        original.manifest,
        anchors,
    )
    named = json.loads(data).get("file", {}).get("sha256")
    same = named == source.get("sha256") and sha == source.get("manifest_sha256")
    detail = f"made from {source.get('file')} (sha256 {named})"
    return [
        *signature_checks,
        Check("copy_source", same, detail if same else "the copy names another original"),
    ]


def verify_copy_package(path: Path, *, trust_anchors: Any = None) -> list[Check]:
    """Every check of a copy package (zip or unpacked folder): BagIt fixity, the copy's own
    signatures, and the chain back to the sealed original."""
    anchors = resolve_trust_anchors(trust_anchors)
    with tempfile.TemporaryDirectory(prefix="taspa-verify-") as temp:
        bag_dir = path if path.is_dir() else _extract(path, Path(temp))
        data = bag_dir / "data"
        manifests = sorted((data / "copy").glob("*.manifest.json"))
        if not manifests:
            raise UnreadableInput(f"{path}: no copy manifest in data/copy/")
        checks = [_bag_check(bag_dir)]
        try:
            copy_manifest = json.loads(manifests[0].read_bytes())
            media = data / "copy" / copy_manifest["file"]["name"]
        except (ValueError, KeyError, TypeError) as error:
            return [*checks, Check("copy_manifest", False, f"unreadable: {error}")]
        checks += _prefixed("copy_", verify_recording(media, trust_anchors=anchors))
        checks += _original_checks(data, copy_manifest, anchors)
    return checks
