"""Browser tests: a real `taspa serve` process over its own TASPA_HOME, driven by Debian's
Chromium through Playwright (the browsers Playwright would download are not used)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SCREEN = {"width": 1366, "height": 768}


@dataclass(frozen=True)
class Server:
    url: str
    home: Path
    hearing_id: int  # a fresh hearing of today, idle, in the demo court


def operator_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASPA_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    # R8's start guard is proven in process (tests/recorder/test_r8_preflight_guard.py)
    return env | {"TASPA_HOME": str(home), "TASPA_PREFLIGHT_MAX_AGE_MIN": "0"}


def taspa(home: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "taspa", *args],
        env=operator_env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done.stdout


@pytest.fixture
def taspa_cli():
    """``taspa`` run as the court's operator would, against a server's home (``taspa_cli(home,
    "shell", "-c", ...)``): a fixture, since test modules cannot import a conftest by name."""
    return taspa


@pytest.fixture
def hearing_in_new_room(server: Server) -> Callable[[str, list[dict]], int]:
    """``hearing_in_new_room(room, sources)``: a hearing of today (judge 'judge', secretary
    'secretary') in the demo court's courtroom ``room``, made with ``sources`` if new."""

    def scheduled(room: str, sources: list[dict]) -> int:
        script = (
            "import json; from django.utils import timezone; from taspa.courts import actions; "
            "from taspa.courts.models import Case, Courtroom, User; "
            "case = Case.objects.get(number='7599-26-00-2/101'); "
            "admin = User.objects.get(username='admin'); "
            f"room = Courtroom.objects.filter(court=case.court, name={room!r}).first() or "
            f"actions.create_courtroom(actor=admin, court=case.court, name={room!r}, "
            f"sources=json.loads({json.dumps(sources)!r})); "
            "h = actions.schedule_hearing(actor=admin, case=case, courtroom=room, "
            "instance='first', closed=False, judge=User.objects.get(username='judge'), "
            "secretary=User.objects.get(username='secretary'), scheduled_at=timezone.now(), "
            "participants=[]); print('HEARING', h.pk)"
        )
        out = taspa(server.home, "shell", "-c", script)
        return int(out.split("HEARING")[-1].split()[0])

    return scheduled


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "taspa serve exited"
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 — loopback only
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo court with one sealed demo recording, plus a fresh hearing to record."""
    home = tmp_path_factory.mktemp("taspa-e2e")
    taspa(home, "demo", "--no-serve", "--seconds", "4")
    # A fresh hearing to record, and the demo participant linked to the demo hearings (the
    # portal lists a party's own hearings only).
    fresh = (
        "from taspa.demo import seed_demo; from taspa.courts.models import *; "
        "world = seed_demo(); "
        "HearingParticipant.objects.filter(name__startswith='Дәулет')"
        ".update(user=User.objects.get(username='participant')); "
        "print('HEARING', world.hearing.pk)"
    )
    out = taspa(home, "shell", "-c", fresh)
    hearing_id = int(out.split("HEARING")[-1].split()[0])
    port = free_port()
    log = (home / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "taspa", "serve", "--addr", f"127.0.0.1:{port}"],
        env=operator_env(home),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/login/", process)
        yield Server(url=url, home=home, hearing_id=hearing_id)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture
def page(browser, server: Server) -> Iterator[object]:
    context = browser.new_context(viewport=SCREEN, base_url=server.url, locale="kk-KZ")
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go: $E2E_SCREENSHOTS, or a temporary directory."""
    configured = os.environ.get("E2E_SCREENSHOTS")
    path = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


PHONE = {"width": 390, "height": 844}


@pytest.fixture
def fits_phone(page, screenshots: Path) -> Callable[[str, str], None]:
    """``fits_phone(path, name)``: the page at ``path`` has no sideways scroll on a 390 px
    phone (a screenshot ``<name>-390.png`` is kept); the desktop size is restored after."""

    def check(path: str, name: str) -> None:
        page.set_viewport_size(PHONE)
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=str(screenshots / f"{name}-390.png"), full_page=True)
        assert width <= PHONE["width"], f"{path} is {width} px wide on a 390 px screen"
        page.set_viewport_size(SCREEN)

    return check


DEMO_PASSWORD = "demo"  # the demo court's printed password


@pytest.fixture
def sign_in(page):
    """Sign ``page`` in as one of the demo court's people."""

    def signed_in(username: str) -> None:
        page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_url("**/")

    return signed_in
