"""R11 wherever the capture runs: «контроль уровня записи… путем наблюдения за реагированием
колебания шкалы эквалайзера на внешний звук». The console's level stream carries a courtroom
agent's levels (it used to end at once in agent rooms), a web process that does not own the
capture shows the owner's meters, and both say when levels stop arriving."""

from __future__ import annotations

import asyncio
import concurrent.futures
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient
from django.utils import timezone

from taspa.courts.models import Hearing
from taspa.recorder import lease, remote, selectors
from taspa.recorder.models import AgentRegistration, CaptureLease, Recording

JUDGE = {"name": "judge", "rms_dbfs": -20.0, "peak_dbfs": -6.0, "silent": False, "clipping": False}


def _stream(user, path: str) -> str:
    """The server-sent events of ``path`` (its ``seconds`` bound them), read as a browser would,
    on an event loop of its own thread (Playwright may hold the main thread's)."""

    async def read() -> str:
        client = AsyncClient()
        await client.aforce_login(user)
        try:
            response = await client.get(path)
            assert response.status_code == 200
            return b"".join([chunk async for chunk in response.streaming_content]).decode()
        finally:
            # The test client keeps connections open across requests (for the test's
            # transaction); this loop's database thread would hold one past the session, and
            # PostgreSQL would refuse to drop the test database.
            await sync_to_async(connections.close_all)()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, read()).result()


def _recording_hearing(world) -> Hearing:
    hearing = world.hearing(court="a")
    Recording.objects.create(hearing=hearing, spool_dir="", started_at=timezone.now())
    Hearing.objects.filter(pk=hearing.pk).update(state="recording")
    return hearing


@pytest.mark.django_db(transaction=True)
def test_r11_agent_room_stream_carries_the_agents_levels_and_says_when_the_link_is_down(world):
    hearing = _recording_hearing(world)
    agent_token = remote.register_agent(actor=None, courtroom=world.rooms["a"])
    agent = AgentRegistration.objects.get(courtroom=world.rooms["a"])
    remote.store_levels(agent, hearing.pk, [JUDGE])
    secretary = world.person("secretary")
    assert agent_token
    url = f"/api/v1/hearings/{hearing.pk}/levels/stream?seconds=0.7"

    live = _stream(secretary, url)
    assert "event: end" not in live
    assert live.count("data: ") >= 2 and '"judge"' in live and '"source": "agent"' in live
    assert '"link": "up"' in live

    AgentRegistration.objects.filter(pk=agent.pk).update(
        levels_at=timezone.now() - timedelta(seconds=10)
    )
    silent = _stream(secretary, url)
    assert '"link": "down"' in silent and '"judge"' not in silent  # no stale levels shown

    Hearing.objects.filter(pk=hearing.pk).update(state="stopped")
    assert _stream(secretary, url).startswith("event: end")


def test_r11_another_web_process_shows_the_owners_meters(world):
    hearing = _recording_hearing(world)
    now = timezone.now()
    CaptureLease.objects.create(
        hearing=hearing, owner="court-web-1:4242:boot", acquired_at=now, heartbeat_at=now
    )
    assert selectors.levels_answer(hearing.pk)["link"] == "down"  # nothing shared yet
    lease.publish_levels(hearing.pk, {"recording": True, "channels": [JUDGE]})
    assert selectors.levels_answer(hearing.pk)["channels"] == []  # only the owner publishes

    CaptureLease.objects.filter(hearing=hearing).update(owner=lease.me())
    lease.publish_levels(hearing.pk, {"recording": True, "link": "up", "channels": [JUDGE]})
    answer = selectors.levels_answer(hearing.pk)
    assert answer["source"] == "owner" and answer["channels"] == [JUDGE]

    CaptureLease.objects.filter(hearing=hearing).update(levels_at=now - timedelta(seconds=10))
    assert selectors.levels_answer(hearing.pk)["link"] == "down"
