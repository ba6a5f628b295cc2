"""The portal pages show the patient exactly what they have, why, and what comes next (issue 5): their own record
only, without any patient id in the address."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from helpers import PASSWORD, sign_in
from worlds.clinic import record


def _text(html: str) -> str:
    main = html[html.index("<main"):html.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


@pytest.fixture
def pat(client, story):
    sign_in(client, "pat")
    return client


def test_the_portal_shows_the_patients_balance_draws_and_recent_entries(client, personas, history):
    sign_in(client, "pat")
    html = client.get("/portal/").get_data(as_text=True)
    assert "<h1>Your rewards</h1>" in html and "Hello, Pat." in html
    assert "50 <span>points</span>" in html and "$12.50" in html
    assert "2 prize draws" in html
    # The history world's entries carry no engine history, so the portal says them plainly.
    assert "Test for stimulants: 15 points" in html
    assert "Points exchanged at the desk" in html
    assert f'<time datetime="{history.next_visit.isoformat()}">' in html
    assert "Olive" not in html


def test_the_portal_says_so_kindly_when_nothing_is_recorded(client, personas):
    sign_in(client, "pat")
    html = client.get("/portal/").get_data(as_text=True)
    assert "Nothing is recorded yet." in html and "$0.00" in html


def test_home_shows_the_balance_in_points_and_dollars(pat):
    text = _text(pat.get("/portal/").get_data(as_text=True))
    assert "You have 155 points worth $38.75" in text


def test_home_shows_the_streak_what_the_next_negative_earns_and_the_reset_value(pat):
    text = _text(pat.get("/portal/").get_data(as_text=True))
    assert "Stimulants 2 in a row" in text
    assert "Your next negative test earns 60 points ($15.00)." in text
    assert "A positive or missed test would reset it to 10 points." in text


def test_home_shows_how_much_of_the_cap_is_left(pat):
    text = _text(pat.get("/portal/").get_data(as_text=True))
    assert "You can still earn $953.75 of the $997.50 limit for this treatment episode." in text


def test_home_lists_visits_from_today_within_the_episode_only(pat, story):
    html = pat.get("/portal/").get_data(as_text=True)
    shown = re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)">', html)
    assert shown == [story.next_visit.isoformat()]  # not yesterday's, not the one after the episode ends


def test_home_counts_prizes_waiting_to_be_collected(pat):
    assert "1 prize to collect" in _text(pat.get("/portal/").get_data(as_text=True))


def test_history_says_each_award_in_plain_words(pat):
    text = _text(pat.get("/portal/history").get_data(as_text=True))
    assert "Negative for stimulants, 3rd in a row: 60 points (20 + 40 bonus)" in text
    assert "Missed test: nothing this time" in text


def test_history_shows_corrections_as_corrections_with_before_and_now(pat):
    html = pat.get("/portal/history").get_data(as_text=True)
    text = _text(html)
    assert "Correction Correction to your test of Nov 9, 2026: Negative for stimulants, 4th in a row. " \
           "Before 0 points, now 25 points." in text
    assert "Test for stimulants: 0 points (changed later by a correction)" in text
    assert html.count('class="line line-adjustment') == 2


def test_history_shows_manual_adjustments_and_redemptions_as_such(pat):
    text = _text(pat.get("/portal/history").get_data(as_text=True))
    assert "Staff adjustment Adjustment by the clinic staff: 10 points" in text
    assert "Helped at the health fair" in text
    assert "Exchanged for Bus pass" in text and "-20 points" in text


def _line_texts(html: str) -> list[str]:
    return [_text("<main>" + item + "</main>") for item in re.findall(r'<li class="line .*?</li>', html, re.S)]


def test_a_long_history_is_shown_a_page_at_a_time_newest_first(pat, monkeypatch):
    from cm_tracker.patient import routes

    every = _line_texts(pat.get("/portal/history").get_data(as_text=True))
    assert len(every) == 12  # 8 tests, 2 correction lines, a staff adjustment and a redemption
    monkeypatch.setattr(routes, "HISTORY_PAGE", 5)
    first = pat.get("/portal/history").get_data(as_text=True)
    assert _line_texts(first) == every[:5]
    assert 'href="/portal/history?page=2">Older entries</a>' in first and "Newer entries" not in first
    assert "Page 1 of 3" in _text(first)
    second = pat.get("/portal/history?page=2").get_data(as_text=True)
    assert _line_texts(second) == every[5:10]
    assert 'href="/portal/history?page=1">Newer entries</a>' in second
    assert 'href="/portal/history?page=3">Older entries</a>' in second
    last = pat.get("/portal/history?page=3").get_data(as_text=True)
    assert _line_texts(last) == every[10:] and "Older entries" not in last


@pytest.mark.parametrize(("asked", "shown"), [("99", "Page 3 of 3"), ("0", "Page 1 of 3"), ("-2", "Page 1 of 3"),
                                              ("two", "Page 1 of 3")])
def test_an_odd_history_page_number_shows_the_nearest_page(pat, monkeypatch, asked, shown):
    from cm_tracker.patient import routes

    monkeypatch.setattr(routes, "HISTORY_PAGE", 5)
    response = pat.get(f"/portal/history?page={asked}")
    assert response.status_code == 200
    assert shown in _text(response.get_data(as_text=True))


def test_a_history_that_fits_one_page_has_no_page_links(pat):
    html = pat.get("/portal/history").get_data(as_text=True)
    assert 'class="pager"' not in html and "Page 1 of" not in html


def test_progress_draws_a_chart_with_a_text_alternative_and_a_table(pat):
    html = pat.get("/portal/progress").get_data(as_text=True)
    assert '<svg class="chart-svg"' in html and 'role="img"' in html
    assert "<title id=\"results-title\">Test results per week</title>" in html
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", html, re.S)
    cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in rows]
    assert cells == ["W3 Nov 16, 2026 2 0 0 $8.75", "W2 Nov 9, 2026 2 1 0 $13.75", "W1 Nov 2, 2026 3 0 0 $21.25"]


def test_rewards_show_what_the_patient_can_afford_now(pat, story):
    html = pat.get("/portal/rewards").get_data(as_text=True)
    text = _text(html)
    assert "You can afford up to 4 now." in text  # 155 points buy 7 at 20 each, but only 4 are left in stock
    assert "You need 1,845 points more." in text
    assert f'id="qty-{story.phone_card}"' not in html


def test_rewards_list_prizes_won_and_waiting(pat):
    assert "A small prize ($1.00) to choose from the prize cabinet" in _text(pat.get("/portal/rewards").get_data(
        as_text=True))


def test_receipts_list_what_was_handed_over(pat, story):
    html = pat.get("/portal/receipts").get_data(as_text=True)
    assert f'href="/portal/receipts/{story.fulfilled}">Bus pass</a>' in html
    receipt = _text(pat.get(f"/portal/receipts/{story.fulfilled}").get_data(as_text=True))
    assert "Item Bus pass" in receipt and "Points 20 points" in receipt and "Value $5.00" in receipt


def test_a_receipt_of_another_patient_is_not_found(pat, story):
    assert pat.get(f"/portal/receipts/{story.olive_request}").status_code == 404


@pytest.mark.parametrize("page", ["home", "progress", "history", "rewards", "receipts"])
def test_every_portal_page_is_audited_as_a_view_of_the_patients_own_record(pat, app, personas, page):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    pat.get("/portal/" if page == "home" else f"/portal/{page}")
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.view")).all()
    expected = [(personas.patient, "pat", {"via": f"portal/{page}"})]
    assert [(r.patient_id, r.username, r.detail) for r in rows] == expected


def test_an_account_not_linked_to_a_record_is_told_so_kindly(app, client, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import Role, User
    from cm_tracker.services.core.passwords import hash_password

    with app.app_context():  # an account whose record link was never made (e.g. created before the record)
        db.session.add(User(username="newbie", display_name="New", role=Role.PATIENT,
                            password_hash=hash_password("correct horse battery staple")))
        db.session.commit()
    sign_in(client, "newbie")
    assert "not linked to a patient record yet" in client.get("/portal/history").get_data(as_text=True)


def test_a_patient_lands_on_the_portal(client, personas):
    sign_in(client, "pat")
    assert client.get("/").headers["Location"].endswith("/portal/")


def test_history_tells_bonus_draws_and_a_recovered_value_apart(app, client, make_clinic):
    """A prize-draw schedule's bonus is what the award holds above the ladder's value at its level (the report
    cache stores the total only), so the history still says "(1 + 2 bonus)" and "your earlier value is back"."""
    from cm_tracker.services.usecases import accounts

    bowl = [{"tier": "good_job", "slips": 1, "value_cents": 0}, {"tier": "small", "slips": 1, "value_cents": 100}]
    clinic = make_clinic({"kind": "prize_draws", "start_draws": 1, "step_draws": 1, "recovery_after": 2,
                          "bonus_draws": 2, "bonus_analytes": ["opiates"], "bowl": bowl})
    record(clinic, [(0, "N/N"), (3, "N"), (7, "P"), (10, "N/N"), (14, "N/N")])
    accounts.create_user(username="dora", password=PASSWORD, role="patient", display_name="Dora",
                         patient_id=clinic.patient_id)
    sign_in(client, "dora")
    html = client.get("/portal/history").get_data(as_text=True)
    assert re.findall(r'<p class="line-text">(.*?)</p>', html) == [
        "Negative for stimulants, 2nd in a row: 5 prize draws (3 + 2 bonus): your earlier value is back",
        "Negative for stimulants, 1st in a row: 3 prize draws (1 + 2 bonus)",
        "Positive for cocaine and methamphetamine: nothing this time",
        "Negative for stimulants, 2nd in a row: 2 prize draws",
        "Negative for stimulants, 1st in a row: 3 prize draws (1 + 2 bonus)",
    ]
