"""``taspa recorder``: the courtroom PC's recorder agent, store-and-forward (ADR 0004).

The agent records with the same :class:`CaptureEngine` into its local spool and never needs
the court server to do so. Whenever the server answers, it (1) collects the secretary's
commands, (2) sends its events — started, paused, marks, gaps, stopped — from a fsync'd outbox
with their original times, and (3) uploads the spool (journal and media) resumably from the
offsets the server holds. A stopped hearing whose every byte is uploaded is completed: the
server re-verifies the chain and the SHA-256 and seals it. An outage of hours costs nothing
but the delay (R6, R14, R19). Local operators use ``taspa recorder start|pause|...``, which
drop a command file into the spool's ``control/`` folder (no network needed).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taspa.recorder.agent_link import AgentLink, Rejected, Unreachable
from taspa.recorder.engine import CaptureEngine, EngineError, EngineEvent, Source, preflight
from taspa.recorder.journal import JOURNAL_NAME, MEDIA_NAME
from taspa.recorder.policy import clock_sample

log = logging.getLogger("taspa.recorder.agent")
STATE_NAME = "agent.json"
OUTBOX_NAME = "outbox.jsonl"
CONTROL_DIR = "control"
CHUNK = 1 << 20
LOCAL_VERBS = ("start", "pause", "resume", "stop", "mark", "preflight")


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(data, out, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def drop_local_command(spool_root: Path, verb: str, **args: Any) -> Path:
    """What ``taspa recorder stop`` and friends do: leave a command for the running agent."""
    if verb not in LOCAL_VERBS:
        raise ValueError(f"the agent understands {', '.join(LOCAL_VERBS)}")
    folder = Path(spool_root) / CONTROL_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.json"
    write_json_atomic(path, {"verb": verb, "at": time.time(), **args})
    return path


@dataclass
class AgentState:
    """What survives a restart of the agent: cursors and each hearing's phase."""

    after: int = 0  # last server command executed
    next_seq: int = 1  # next outbox event number
    acked: int = 0  # last event the server holds
    hearings: dict[str, str] = field(default_factory=dict)  # id → recording|stopped|done
    sources: list[dict[str, Any]] = field(default_factory=list)  # cached courtroom config

    @classmethod
    def load(cls, path: Path) -> AgentState:
        return cls(**json.loads(path.read_text())) if path.exists() else cls()


class Outbox:
    """Events for the server, one fsync'd JSON line each, sent in order until acknowledged."""

    def __init__(self, path: Path, state: AgentState) -> None:
        self.path, self.state = path, state
        self._lock = threading.Lock()

    def add(self, kind: str, hearing: int | None, at: float | None = None, **data: Any) -> None:
        with self._lock:
            event = {"seq": self.state.next_seq, "kind": kind, "hearing": hearing,
                     "at": at if at is not None else time.time(), "data": data}  # fmt: skip
            with open(self.path, "a", encoding="utf-8") as out:
                out.write(json.dumps(event, sort_keys=True) + "\n")
                out.flush()
                os.fsync(out.fileno())
            self.state.next_seq += 1

    def pending(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        events = [json.loads(line) for line in lines if line.strip()]
        return [e for e in events if e["seq"] > self.state.acked]


class JournalTail:
    """Reads a growing journal incrementally: complete lines only, and where the last fsync'd
    piece ends (media beyond it may still be cut back by a recovery, so it is not sent yet)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.complete = 0  # bytes of whole lines
        self.media_end = 0
        self.stop: dict[str, Any] | None = None

    def refresh(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, "rb") as journal:
            journal.seek(self.complete)
            data = journal.read()
        whole = data[: data.rfind(b"\n") + 1]
        for line in whole.splitlines():
            record = json.loads(line)
            if record.get("type") == "piece":
                self.media_end = record["offset"] + record["length"]
            elif record.get("type") == "stop":
                self.stop = record
        self.complete += len(whole)


class RecorderAgent:
    """One courtroom's agent. ``run()`` loops until ``halt`` is set (SIGTERM/SIGINT)."""

    def __init__(
        self,
        *,
        link: AgentLink,
        spool_root: Path,
        sources: list[Source] | None = None,
        tick_s: float = 0.2,
    ) -> None:
        self.link, self.root, self.tick_s = link, Path(spool_root), tick_s
        self.root.mkdir(parents=True, exist_ok=True)
        self.state = AgentState.load(self.root / STATE_NAME)
        self.outbox = Outbox(self.root / OUTBOX_NAME, self.state)
        self.local_sources = sources
        self.engine: CaptureEngine | None = None
        self.hearing: int | None = None
        self.halt = threading.Event()
        self.online = False
        self._retry_at = 0.0
        self._levels_at = 0.0
        self._uploads: dict[int, tuple[dict[str, int], JournalTail]] = {}

    # --- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        self._recover()
        self._preflight()
        while not self.halt.is_set():
            self.step()
            self.halt.wait(self.tick_s)
        if self.engine is not None:
            # Not a lawful stop (R6): the spool is left as after a crash, and the next start of
            # the agent recovers it and records the break as a gap.
            log.warning(
                "agent stopping while hearing %s records: it resumes at restart", self.hearing
            )
            self.engine.detach()
            self.engine = None

    def step(self) -> None:
        """One tick: local commands first (they never wait on the network), then the server."""
        for path, command in self._local_commands():
            self._execute(command, origin="courtroom")
            path.unlink()
        self._save()
        if time.monotonic() < self._retry_at:
            return
        try:
            self._exchange()
            self.online = True
        except Unreachable as error:
            if self.online:
                log.warning("court server unreachable: %s; recording goes on locally", error)
            self.online, self._retry_at = False, time.monotonic() + 1.0
        except Rejected as refusal:  # e.g. the server does not know the hearing: retry later
            log.error("the court server refused: %s", refusal)
            self._retry_at = time.monotonic() + 5.0
        except Exception:  # the loop must outlive any surprise: capture does not depend on it
            log.exception("agent exchange failed")
            self._retry_at = time.monotonic() + 5.0

    def _exchange(self) -> None:
        answer = self.link.get("commands", after=self.state.after)
        for command in answer["commands"]:
            self._execute(command, origin="server")
            self.state.after = command["seq"]
            self._save()
        self._flush_outbox()
        self._send_levels()
        if not self.outbox.pending():
            for hearing in [int(h) for h, s in self.state.hearings.items() if s != "done"]:
                self._upload(hearing)

    def _local_commands(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        folder = self.root / CONTROL_DIR
        for path in sorted(folder.glob("*.json")) if folder.exists() else []:
            try:
                yield path, json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                log.warning("unreadable local command %s", path)
                path.unlink()

    def _save(self) -> None:
        write_json_atomic(self.root / STATE_NAME, self.state.__dict__)

    # --- commands ------------------------------------------------------------------------------

    def _execute(self, command: dict[str, Any], *, origin: str) -> None:
        verb, args = command["verb"], command.get("args") or command
        hearing = command.get("hearing")
        handler = getattr(self, f"_do_{verb}", None)
        if handler is None:
            log.warning("unknown command %s", verb)
            return
        try:
            handler(int(hearing) if hearing is not None else self.hearing, args, origin)
        except (EngineError, ValueError, KeyError) as error:
            log.warning("%s from the %s refused: %s", verb, origin, error)
            self.outbox.add("refused", hearing, verb=verb, detail=str(error), origin=origin)

    def _sources(self) -> list[Source]:
        if self.local_sources:
            return self.local_sources
        if not self.state.sources:
            raise EngineError("no sources: run once with the server reachable, or give --sources")
        return [
            Source(kind=s["kind"], input=s["input"], format=s.get("format"),
                   label=s.get("label", ""))
            for s in self.state.sources
        ]  # fmt: skip

    def _do_start(self, hearing: int | None, args: dict, origin: str) -> None:
        if hearing is None:
            raise ValueError("start needs the hearing's number")
        if self.engine is not None:
            if self.hearing == hearing:
                return  # already recording it (a local start, then the server's own)
            raise EngineError(f"hearing {self.hearing} is being recorded")
        spool = self.root / f"hearing-{hearing}"
        if str(hearing) in self.state.hearings:
            return  # recorded before: a late command after a local start and stop
        engine = CaptureEngine(
            sources=self._sources(), spool_dir=spool, on_event=self._engine_event
        )
        engine.start()
        self.engine, self.hearing = engine, hearing
        self.state.hearings[str(hearing)] = "recording"
        self.outbox.add("started", hearing, anchor=engine.started_at.timestamp(), origin=origin)

    def _current(self, hearing: int | None) -> CaptureEngine:
        if self.engine is None or hearing != self.hearing:
            raise EngineError(f"hearing {hearing} is not being recorded here")
        return self.engine

    def _do_pause(self, hearing: int | None, args: dict, origin: str) -> None:
        engine = self._current(hearing)
        if engine.state != "recording":
            return
        engine.pause(args["reason"])
        announced = args.get("announced_at") or time.time()
        self.outbox.add("paused", hearing, reason=args["reason"], announced_at=announced,
                        origin=origin)  # fmt: skip

    def _do_resume(self, hearing: int | None, args: dict, origin: str) -> None:
        engine = self._current(hearing)
        if engine.state == "paused":
            engine.resume()
            self.outbox.add("resumed", hearing, origin=origin)

    def _do_stop(self, hearing: int | None, args: dict, origin: str) -> None:
        if hearing is not None and self.state.hearings.get(str(hearing)) in ("stopped", "done"):
            return
        result = self._current(hearing).stop()
        self.engine, self.hearing = None, None
        self.state.hearings[str(hearing)] = "stopped"
        self.outbox.add("stopped", hearing, sha256=result.sha256, bytes=result.bytes,
                        chain_head=result.chain_head, duration_s=result.duration_s,
                        origin=origin)  # fmt: skip

    def _do_mark(self, hearing: int | None, args: dict, origin: str) -> None:
        """R12 at the courtroom PC: the offset comes from the engine that is recording."""
        from datetime import UTC, datetime

        at = float(args.get("at") or time.time())
        offset = self._current(hearing).media_offset(datetime.fromtimestamp(at, UTC))
        self.outbox.add("mark", hearing, at=at, speaker=args["speaker"], role=args["role"],
                        offset_s=round(offset, 3))  # fmt: skip

    def _do_preflight(self, hearing: int | None, args: dict, origin: str) -> None:
        self._preflight()

    def _engine_event(self, event: EngineEvent) -> None:
        """Called from the engine's threads: gaps and losses go to the server as incidents."""
        data: dict[str, Any] = {"detail": event.detail}
        if event.gap is not None:
            data |= {"gap_start": event.gap.start.timestamp(),
                     "gap_end": event.gap.end.timestamp(), "cause": event.gap.cause}  # fmt: skip
        self.outbox.add(event.kind, self.hearing, at=event.at.timestamp(), **data)

    # --- what goes to the server ---------------------------------------------------------------

    def _flush_outbox(self) -> None:
        pending = self.outbox.pending()
        for start in range(0, len(pending), 200):
            answer = self.link.post("events", {"events": pending[start : start + 200]})
            self.state.acked = max(self.state.acked, int(answer["acked"]))
            self._save()

    def _send_levels(self) -> None:
        if self.engine is None or time.monotonic() - self._levels_at < 1.0:
            return
        self._levels_at = time.monotonic()
        channels = [
            {"name": c.name, "rms_dbfs": max(c.rms_dbfs, -120.0),
             "peak_dbfs": max(c.peak_dbfs, -120.0), "silent": c.silent, "clipping": c.clipping}
            for c in self.engine.levels()
        ]  # fmt: skip
        self.link.post("levels", {"hearing": self.hearing, "channels": channels})

    def _upload(self, hearing: int) -> None:
        """Send what the server lacks, from the offsets it reports; complete after a stop."""
        spool = self.root / f"hearing-{hearing}"
        if hearing not in self._uploads:
            held = self.link.get(f"uploads/{hearing}")
            self._uploads[hearing] = ({"media": held["media"], "journal": held["journal"]},
                                      JournalTail(spool / JOURNAL_NAME))  # fmt: skip
        held, tail = self._uploads[hearing]
        tail.refresh()
        try:
            self._send_file(hearing, "journal", spool / JOURNAL_NAME, tail.complete, held)
            self._send_file(hearing, "media", spool / MEDIA_NAME, tail.media_end, held)
        except Rejected as refusal:
            log.warning("upload of hearing %s: %s; asking for the offsets", hearing, refusal)
            del self._uploads[hearing]
            return
        stopped = self.state.hearings[str(hearing)] == "stopped" and tail.stop is not None
        if stopped and held["media"] == tail.stop["bytes"] and held["journal"] == tail.complete:
            self._complete(hearing)

    def _send_file(self, hearing: int, which: str, path: Path, end: int, held: dict) -> None:
        if held[which] >= end:
            return
        with open(path, "rb") as source:
            while held[which] < end:
                source.seek(held[which])
                data = source.read(min(CHUNK, end - held[which]))
                held[which] = self.link.put_chunk(
                    f"uploads/{hearing}/files/{which}", held[which], data
                )

    def _complete(self, hearing: int) -> None:
        try:
            answer = self.link.post(f"uploads/{hearing}/complete", {})
        except Rejected as refusal:
            log.error("hearing %s did not verify on the server: %s", hearing, refusal)
            self._uploads.pop(hearing, None)  # the server discarded its copy: send it again
            return
        log.info("hearing %s uploaded: %s %s", hearing, answer["state"], answer["sha256"])
        self.state.hearings[str(hearing)] = "done"
        self._save()

    # --- start-up ------------------------------------------------------------------------------

    def _recover(self) -> None:
        """After a crash of the agent: a hearing that was recording goes on (with a gap)."""
        for hearing, phase in self.state.hearings.items():
            spool = self.root / f"hearing-{hearing}"
            if phase == "recording" and (spool / JOURNAL_NAME).exists():
                self.hearing = int(hearing)
                try:
                    self.engine = CaptureEngine.recover(spool, on_event=self._engine_event)
                except EngineError as error:
                    log.error("cannot recover hearing %s: %s", hearing, error)
                    self.engine, self.hearing = None, None

    def _preflight(self) -> None:
        """R8 on the courtroom PC: sources, disk, the court server and the clock against it."""
        checks = []
        try:
            config = self.link.get("config")
            self.state.sources = config["sources"]
            sample = self.measure_clock()
            checks.append({"name": "server_reachable", "ok": True, "detail": self.link.server})
            checks.append({"name": "clock", "ok": sample.ok,
                           "detail": f"{-sample.offset:+.3f} s against the server "
                                     f"(± {sample.rtt / 2:.3f} s)"})  # fmt: skip
            offset = -sample.offset
        except Unreachable as error:
            checks.append({"name": "server_reachable", "ok": False, "detail": str(error)})
            offset = None
        if self.engine is None:
            try:
                found = preflight(self._sources(), self.root, seconds=3.0)
                checks += [c.__dict__ for c in found]
            except EngineError as error:
                checks.append({"name": "sources", "ok": False, "detail": str(error)})
        self.outbox.add("preflight", None, checks=checks, clock_offset_s=offset)
        self._save()

    def measure_clock(self):
        """NTP-style: the server's time against the middle of our round trip; best of three."""
        samples = []
        for _ in range(3):
            sent = time.time()
            other = self.link.get_time()
            samples.append(clock_sample(sent, other, time.time()))
        return min(samples, key=lambda s: s.rtt)
