"""Choosing a patient's visit days in a programme that counts visits per week (the California-like preset: two a
week in weeks 1-12, one a week in weeks 13-24), in a real browser on a phone (390 px) and a desk monitor (1280 px):
a wrong number of days is refused beside its group with the ticks kept, then a good choice is saved."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e.conftest import SCREENSHOTS, sign_in
from e2e.test_programmes_in_a_browser import create_california, fits_without_sideways_scrolling

from helpers import A_MONDAY

SIZES = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1280, "height": 800}}


def shoot(page, name: str, size: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"visit-days-{name}-{SIZES[size]['width']}.png"), full_page=True)


def enrol(page, name: str, record: str, programme: str) -> None:
    page.goto("/staff/patients/new")
    page.get_by_label("Patient's name").fill(name)
    page.get_by_label("Record number").fill(record)
    page.get_by_label("Programme").select_option(label=programme)
    with page.expect_navigation():
        page.get_by_role("button", name="Enrol").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Open the patient record").click()


def days_of(page, group: str):
    return page.get_by_role("group", name=re.compile(group))


@pytest.mark.time_machine(A_MONDAY)
@pytest.mark.parametrize("size", list(SIZES))
def test_a_counselor_chooses_a_patients_days_for_each_stretch_of_weeks(page_at, size):
    page = page_at(SIZES[size])
    sign_in(page, "ada")
    programme = f"California days {size}"
    create_california(page, programme)
    enrol(page, f"Wendy Weekly {size}", f"MRN-W{size}", programme)
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Edit name")).click()

    first, later = days_of(page, "Weeks 1-12: 2 visits a week"), days_of(page, "Weeks 13-24: 1 visit a week")
    expect(first.get_by_label("Monday")).to_be_checked()
    expect(first.get_by_label("Thursday")).to_be_checked()
    expect(later.get_by_label("Monday")).to_be_checked()
    assert fits_without_sideways_scrolling(page)

    first.get_by_label("Thursday").uncheck()  # one day where the plan needs two
    with page.expect_navigation():
        page.get_by_role("button", name="Change the visit days").click()
    expect(days_of(page, "Weeks 1-12").get_by_text(
        "In weeks 1-12 the plan has 2 visits a week: choose exactly 2 days.")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Weeks 1-12: 2 visits a week: In weeks 1-12"))).to_be_visible()
    expect(days_of(page, "Weeks 1-12").get_by_label("Monday")).to_be_checked()  # what was ticked is kept
    expect(days_of(page, "Weeks 1-12").get_by_label("Thursday")).not_to_be_checked()
    assert fits_without_sideways_scrolling(page)
    shoot(page, "refused", size)

    first = days_of(page, "Weeks 1-12")
    first.get_by_label("Monday").uncheck()
    first.get_by_label("Tuesday").check()
    first.get_by_label("Friday").check()
    later = days_of(page, "Weeks 13-24")
    later.get_by_label("Monday").uncheck()
    later.get_by_label("Friday").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Change the visit days").click()
    expect(page.get_by_text(re.compile(r"Visit days are now weeks 1-12: 2 a week \(Tuesday, Friday\); "
                                       r"weeks 13-24: 1 a week \(Friday\)"))).to_be_visible()
    assert fits_without_sideways_scrolling(page)
    shoot(page, "saved", size)
