"""The console when its server dies (#16 point 2): a second ``taspa serve`` over the e2e home
is killed with SIGKILL to its whole process group while the console is open; within 5 s the page
shows a role="alert" banner and every button is off, and once a server answers again on that
address the banner goes and the buttons come back."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from e2e.conftest import DEMO_PASSWORD, SCREEN, free_port, operator_env, wait_for

pytestmark = pytest.mark.slow


def serve(home, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "taspa", "serve", "--addr", f"127.0.0.1:{port}"],
        env=operator_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, killed whole below
    )


def kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=20)


def test_r7_server_killed_the_banner_comes_within_5_s_and_the_buttons_are_off(
    browser, server, screenshots
):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = serve(server.home, port)
    context = browser.new_context(viewport=SCREEN, base_url=url, locale="kk-KZ")
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        wait_for(f"{url}/login/", process)
        page.goto("/login/")
        page.fill("#id_username", "secretary")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_url("**/")
        page.goto(f"/hearings/{server.hearing_id}/console")
        page.wait_for_selector("#link[data-state='online']")
        page.wait_for_selector("#connection", state="hidden")
        assert page.is_enabled("#btn-start"), page.get_attribute("#connection", "data-kind")

        kill_group(process)
        killed = time.monotonic()
        page.wait_for_selector("#connection[data-kind='lost']:not([hidden])", timeout=5_000)
        took = time.monotonic() - killed
        assert took < 5.0, took
        assert page.get_attribute("#connection", "role") == "alert"
        assert page.is_disabled("#btn-start") and page.is_disabled("#btn-preflight")
        assert page.get_attribute("#link", "data-state") == "offline"
        page.screenshot(path=str(screenshots / "console-connection-lost.png"))

        process = serve(server.home, port)
        wait_for(f"{url}/login/", process)
        page.wait_for_selector("#connection", state="hidden", timeout=15_000)
        page.wait_for_selector("#btn-start:not([disabled])", timeout=15_000)
    finally:
        context.close()
        kill_group(process)
