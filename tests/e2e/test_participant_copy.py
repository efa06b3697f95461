"""Issue #8's must-show, in Chromium: a participant submits a copy petition and downloads the
copy — a signed package that verifies, audio only for a civil case (R28–R35)."""

from __future__ import annotations

import json
import subprocess
import zipfile

import pytest

pytestmark = pytest.mark.slow


def sealed_demo_hearing(taspa_cli, home) -> int:
    """The demo hearing `taspa demo` recorded and sealed."""
    script = (
        "from taspa.recorder.models import Recording; "
        "print('HEARING', Recording.objects.filter(state='sealed').order_by('pk')[0].hearing_id)"
    )
    out = taspa_cli(home, "shell", "-c", script)
    return int(out.split("HEARING")[-1].split()[0])


def test_participant_submits_a_copy_petition_and_downloads_the_copy(
    page, browser, server, sign_in, screenshots, tmp_path, taspa_cli
):
    hearing = sealed_demo_hearing(taspa_cli, server.home)

    # The participant petitions online (Appendix 2 accepted online, R31).
    sign_in("participant")
    page.click("nav a[href='/access/']")
    page.wait_for_selector("#petition-form")
    page.select_option("#id_hearing", str(hearing))
    page.check("input[name='kind'][value='copy']")
    page.check("input[name='delivery'][value='online']")
    page.fill("#id_address", "Алматы қ., Абай даңғылы, 10")
    page.fill("#id_phone", "+7 701 555 01 02")
    page.check("#id_undertakings_accepted")
    page.check("#id_personal_data_warning_acknowledged")
    page.click("#submit-petition")
    row = page.wait_for_selector("#my-petitions tr[data-state='open']")
    petition = row.get_attribute("id").removeprefix("petition-")
    assert row.query_selector("td:nth-child(5)").inner_text().strip(), "the R34 due date"

    # Court staff issue the copy from their list of petitions.
    staff = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=server.url)
    clerk = staff.new_page()
    clerk.goto("/login/")
    clerk.fill("#id_username", "secretary")
    clerk.fill("#id_password", "demo")
    clerk.click("form.login button[type=submit]")
    clerk.wait_for_url("**/")
    clerk.goto("/access/petitions/")
    clerk.click(f"#fulfil-{petition}")
    clerk.wait_for_selector("p.notice", timeout=60_000)
    staff.close()

    # The participant downloads it while the link lives.
    page.reload()
    page.wait_for_selector(f"#download-{petition}")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots / "participant-petitions.png"))
    with page.expect_download() as arrived:
        page.click(f"#download-{petition}")
    package = tmp_path / arrived.value.suggested_filename
    arrived.value.save_as(package)

    checked = taspa_cli(  # exits 0 only when every check passes
        server.home, "verify", str(package), "--ca", str(server.home / "trust-anchors.pem")
    )
    assert "FAIL" not in checked and "OK" in checked

    # R31: a civil case's copy is audio only.
    with zipfile.ZipFile(package) as bag:
        media = [n for n in bag.namelist() if n.endswith((".audio.ogg", ".audio.mka"))]
        assert len(media) == 1, bag.namelist()
        bag.extract(media[0], tmp_path)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "json",
         str(tmp_path / media[0])],
        capture_output=True, check=True,
    )  # fmt: skip
    kinds = {s["codec_type"] for s in json.loads(probe.stdout)["streams"]}
    assert kinds == {"audio"}

    # R35: the participant confirms receiving the copy; the petition closes.
    page.click(f"#receipt-{petition}")
    page.wait_for_selector(f"#petition-{petition}[data-state='closed']")
