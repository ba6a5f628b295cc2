"""Pages that name patients and may be printed to leave the programme carry the short Part 2 line, on screen at
their foot and always on paper (42 CFR 2.32, docs/reports.md "Identified exports"); the patient's own portal pages
do not: their records are the patient's."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpers import sign_in

pytestmark = pytest.mark.time_machine(datetime(2026, 11, 20, 20, 0, tzinfo=UTC))
STATIC = Path(__file__).resolve().parents[2] / "cm_tracker" / "static"


def _line() -> str:
    from cm_tracker.services.core.part2 import SHORT_NOTICE

    return (f'<p class="part2-line"><strong>Confidential.</strong> {SHORT_NOTICE} Do not redisclose without the '
            "patient's written consent.</p>")


@pytest.mark.parametrize("report", ["outcomes", "fidelity", "budget"])
def test_each_report_page_that_lists_patients_ends_with_the_part2_line(client, history, personas, report):
    sign_in(client, "max")
    html = client.get(f"/reports/{report}?program_id={personas.program}").get_data(as_text=True)
    assert html.count(_line()) == 1
    assert re.search(re.escape(_line()) + r"\s*</main>", html)  # the page's foot, below every list of names


def test_a_report_page_without_a_report_has_no_line(client, personas):
    sign_in(client, "max")
    html = client.get(f"/reports/outcomes?program_id={personas.program}&date_from=2026-13-01").get_data(
        as_text=True)
    assert "part2-line" not in html


@pytest.mark.parametrize("path", ["/portal/", "/portal/progress", "/portal/history", "/portal/rewards"])
def test_the_patients_own_pages_carry_no_part2_line(client, history, path):
    from cm_tracker.services.core.part2 import SHORT_NOTICE

    sign_in(client, "pat")
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "part2-line" not in html and SHORT_NOTICE not in html


def test_the_line_is_never_hidden_on_paper():
    """The print rules hide the header, the footer and the controls; the line is shown and black."""
    reports_css = (STATIC / "reports.css").read_text(encoding="utf-8")
    print_rules = re.findall(r"@media print \{(.*?)\n\}", reports_css, re.S)
    assert any(".part2-line { display: block !important; color: #000;" in rule for rule in print_rules)
    for css in STATIC.glob("*.css"):
        for rule in re.findall(r"@media print \{(.*?)\n\}", css.read_text(encoding="utf-8"), re.S):
            hidden = re.findall(r"([^{}]*)\{[^}]*display: none", rule)
            assert not any("part2-line" in selectors for selectors in hidden), css.name
