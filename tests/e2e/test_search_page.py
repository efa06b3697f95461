"""The search across recordings, in Chromium (#16 point 3): the demo court's secretary finds the
demo recording by its case number, a party's name and the text of a mark; a date range around
today finds it, one in the past does not; the page fits a 390 px phone."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow
CASE = "7599-26-00-2/101"


def search(page, **fields: str) -> str:
    page.goto("/recordings/search")
    for name, value in fields.items():
        page.fill(f"#id_{name}", value)
    page.click("#search-submit")
    page.wait_for_selector("#results, #no-results, .errorlist")
    return page.inner_text("main")


def test_r23_search_finds_by_case_number_party_and_mark_text(page, sign_in, screenshots):
    sign_in("secretary")
    assert CASE in search(page, case_number="2/101")
    assert page.locator("#results a[href^='/recordings/']").count() >= 1
    assert CASE in search(page, party="Дәулет")
    assert CASE in search(page, mark_text="Сәтбаев")
    page.screenshot(path=str(screenshots / "search-1366.png"))
    assert page.locator("#no-results").count() == 0
    search(page, party="Zzyzx")
    assert page.locator("#no-results").count() == 1
    search(page, party="Дә")
    assert page.locator(".errorlist").count() == 1  # at least 3 characters, said at the field
    search(page, date_from="2001-01-01", date_to="2001-12-31")
    assert page.locator("#no-results").count() == 1
    page.set_viewport_size({"width": 390, "height": 844})
    search(page, case_number="2/101")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshots / "search-390.png"), full_page=True)
