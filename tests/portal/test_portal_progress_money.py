"""The progress table's money is written in the reader's language, whoever read the page first (issue 12: a Spanish
table showed "$0.00" for a week that earned nothing once an English reader had opened the page)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from helpers import sign_in
from worlds.story import STORY_NOW


def _cells(html: str) -> list[str]:
    """The "Earned" column of the week-by-week table, newest week first."""
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r'data-label="(?:Earned|Ganado)">(.*?)</td>', html)]


def _locale(app, user_id: int, locale: str) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    with app.app_context():
        db.session.get(User, user_id).locale = locale
        db.session.commit()


@pytest.mark.time_machine(STORY_NOW + timedelta(days=14))  # two weeks on: the weeks of 23 and 30 Nov earned nothing
def test_a_week_without_earnings_is_written_in_spanish_after_an_english_reader(app, client, personas, story):
    sign_in(client, "pat")
    english = _cells(client.get("/portal/progress").get_data(as_text=True))
    _locale(app, personas.patient_user, "es")
    spanish = _cells(client.get("/portal/progress").get_data(as_text=True))
    assert english[1] == "$0.00" and spanish[1] == "0,00\xa0US$"
    assert all("US$" in cell and not cell.startswith("$") for cell in spanish)
