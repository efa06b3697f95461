"""``taspa recorder``: run the courtroom PC's recorder agent, register one, or operate it locally.

taspa recorder --server URL --token TOKEN --courtroom ID [--spool DIR] [--sources FILE]
taspa recorder register --courtroom ID            (on the court server: prints the token)
taspa recorder start --hearing N [--spool DIR]    (at the courtroom PC, no network needed)
taspa recorder pause --reason recess | resume | stop | mark --speaker S --role R
"""

from __future__ import annotations

import json
import logging
import signal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from taspa.recorder.agent import drop_local_command

VERBS = ("run", "register", "start", "pause", "resume", "stop", "mark", "preflight")


class Command(BaseCommand):
    help = "The courtroom recorder agent (store-and-forward to the court server, ADR 0004)."
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("verb", nargs="?", default="run", choices=VERBS)
        parser.add_argument("--server", help="the court server, e.g. http://court:8000")
        parser.add_argument("--token", help="the agent token from `taspa recorder register`")
        parser.add_argument("--courtroom", type=int, help="the courtroom's id on the server")
        parser.add_argument("--spool", help="local spool folder (default TASPA_SPOOL/agent)")
        parser.add_argument("--sources", help="JSON file of sources (else the server's list)")
        parser.add_argument("--hearing", type=int, help="the hearing's id (start, marks)")
        parser.add_argument("--reason", help="pause reason: adjournment, recess, deliberation")
        parser.add_argument("--speaker", help="mark: who speaks")
        parser.add_argument("--role", help="mark: their procedural role")

    def handle(self, *args, verb: str, **options):
        spool = Path(options["spool"] or Path(settings.TASPA_SPOOL) / "agent")
        if verb == "run":
            return self._run(spool, options)
        if verb == "register":
            return self._register(options["courtroom"])
        fields = {k: options[k] for k in ("hearing", "reason", "speaker", "role") if options[k]}
        if verb == "pause" and "reason" not in fields:
            raise CommandError("pause needs --reason (R6)", returncode=2)
        if verb == "mark" and not {"speaker", "role"} <= fields.keys():
            raise CommandError("mark needs --speaker and --role (R12)", returncode=2)
        path = drop_local_command(spool, verb, **fields)
        self.stdout.write(f"queued for the agent: {path.name}")

    def _register(self, courtroom_id: int | None) -> None:
        from taspa.courts.models import Courtroom
        from taspa.recorder.remote import register_agent

        courtroom = Courtroom.objects.filter(pk=courtroom_id).first()
        if courtroom is None:
            raise CommandError(f"No courtroom {courtroom_id}.", returncode=2)
        # The server's console operator acts as the system itself (actor=None).
        self.stdout.write(register_agent(actor=None, courtroom=courtroom))

    def _run(self, spool: Path, options: dict) -> None:
        from taspa.recorder.agent import RecorderAgent
        from taspa.recorder.agent_link import AgentLink
        from taspa.recorder.policy import Source

        if not (options["server"] and options["token"] and options["courtroom"]):
            raise CommandError("the agent needs --server, --token and --courtroom", returncode=2)
        try:
            link = AgentLink(options["server"], options["token"], options["courtroom"])
        except ValueError as error:
            raise CommandError(str(error), returncode=2) from error
        sources = None
        if options["sources"]:
            items = json.loads(Path(options["sources"]).read_text(encoding="utf-8"))
            sources = [Source(**item) for item in items]
        logging.getLogger("taspa").setLevel(logging.INFO)
        agent = RecorderAgent(link=link, spool_root=spool, sources=sources)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: agent.halt.set())
        self.stdout.write(f"Recorder agent for courtroom {options['courtroom']}, spool {spool}")
        self.stdout.flush()
        agent.run()
