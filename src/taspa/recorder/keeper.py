"""The capture keeper: a daemon thread of every server and worker process (``taspa serve``,
``taspa worker``) that keeps in-server capture alive across crashes (R6, R19).

Every ``COMMAND_POLL_S`` it carries out the commands other processes queued for the hearings it
owns; every ``LEVELS_S`` it shares their meters with the other web processes (R11); every
``lease.HEARTBEAT_S`` it renews its leases; and at start and every ``RECOVERY_S`` it takes over
each live hearing whose owner is gone (``actions.recover_orphans``): after a ``kill -9`` and a
restart, capture runs again within seconds.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import close_old_connections, connection

from taspa.recorder import actions, lease, runtime, selectors

log = logging.getLogger("taspa.recorder")
COMMAND_POLL_S = 0.2
RECOVERY_S = 2.0
LEVELS_S = 0.4  # R11: how often the owner shares its meters with the other web processes


def _lost(hearing_ids: list[int]) -> None:
    """Another process took these hearings over (this one stalled past the lease): leave the
    spool as a crash would and let the owner go on, so two ffmpeg never write one spool."""
    for hearing_id in hearing_ids:
        engine = runtime.engine_for(hearing_id)
        runtime.forget(hearing_id)
        if engine is not None:
            log.error("hearing %s: capture lease lost to another process; detaching", hearing_id)
            engine.detach()


def tick(now: float, due: dict[str, float]) -> None:
    """One pass of the keeper (also what a test drives)."""
    if now >= due.get("recover", 0.0):
        actions.recover_orphans()
        due["recover"] = now + RECOVERY_S
    mine = runtime.hearings()
    if now >= due.get("heartbeat", 0.0):
        _lost(lease.renew(mine))
        due["heartbeat"] = now + lease.HEARTBEAT_S
        mine = runtime.hearings()
    for command in lease.take_commands(mine):
        lease.finish(command, actions.run_command(command))
    if mine and now >= due.get("levels", 0.0):
        for hearing_id in mine:
            lease.publish_levels(hearing_id, selectors.levels_answer(hearing_id))
        due["levels"] = now + LEVELS_S


def _run(stop: threading.Event) -> None:
    due: dict[str, float] = {}
    while not stop.is_set():
        try:
            close_old_connections()
            tick(time.monotonic(), due)
        except Exception:  # the keeper must outlive any surprise, or capture dies with it
            log.exception("capture keeper pass failed")
            connection.close()
        stop.wait(COMMAND_POLL_S)


def start_keeper(stop: threading.Event | None = None) -> threading.Event:
    """Start the keeper thread; set the returned event to stop it."""
    stop = stop or threading.Event()
    threading.Thread(target=_run, args=(stop,), name="taspa-capture-keeper", daemon=True).start()
    return stop
