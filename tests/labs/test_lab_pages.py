"""The lab pages: the review queue of held results (match, apply again, dismiss), the lab messages as received, the
LOINC map, and the caseload's line of how many wait. The personas' clinic (Pat MRN-001 on Cora's caseload, Olive
MRN-002 on Otto's), on a frozen Monday noon at the clinic (America/Los_Angeles)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from helpers import sign_in

NOW = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # Mon 30 Nov 2026, 12:00 at the clinic
pytestmark = pytest.mark.time_machine(NOW, tick=False)

# Not in the built-in map; its check digit is LOINC's (16235 -> 4), so the codes page takes it.
NEW_CODE = "16235-4"


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def held(app, *, accession: str, record_number: str | None, reason: str, patient_id: int | None = None,
         content: dict | None = None, arrived: datetime | None = None, sender_id: int | None = None,
         source: str = "api", body: bytes | None = None) -> int:
    """A held result written as rows (its body, its arrival and the result waiting for review)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import (
        LabAction,
        LabBody,
        LabFormat,
        LabMessage,
        LabMessageStatus,
        LabResult,
        ReviewStatus,
    )

    moment = arrived or NOW - timedelta(hours=2)
    raw = body if body is not None else (  # a body the receiving use case can read again, as a stored one is
        "record_number,accession,collected_at,loinc,result,status\n"
        f"{record_number},{accession},2026-11-30T08:30:00-08:00,14314-9,positive,final\n"
        f"{record_number},{accession},2026-11-30T08:30:00-08:00,19554-5,negative,final\n").encode()
    content = content if content is not None else {
        "accession": accession, "record_number": record_number, "collected_at": "2026-11-30T16:30:00+00:00",
        "status": "final", "statuses": ["final"], "results": {"cocaine": "positive", "methamphetamine": "negative"},
        "validity": None, "measures": {"creatinine": "85", "ph": "6.0", "specific_gravity": "1.015"},
        "unknown": [], "conflicts": [], "others": []}
    with app.app_context():
        stored = LabBody(digest=hashlib.sha256(raw).hexdigest(), body=raw, size=len(raw), created_at=moment)
        db.session.add(stored)
        db.session.flush()
        message = LabMessage(body_id=stored.id, received_at=moment, sender_id=sender_id, source=source,
                             format=LabFormat.CSV, content_type="text/csv", status=LabMessageStatus.HELD,
                             counts={"held": 1})
        db.session.add(message)
        db.session.flush()
        row = LabResult(message_id=message.id, location="line 2", accession=accession, record_number=record_number,
                        patient_id=patient_id, action=LabAction.HELD, reason=reason, content=content,
                        content_digest=hashlib.sha256(accession.encode()).hexdigest(),
                        review_status=ReviewStatus.WAITING, created_at=moment)
        db.session.add(row)
        db.session.commit()
        return row.id


def receive_csv(app, rows: list[str]) -> list[int]:
    """A CSV body through the use case that receives lab results; the ids of the rows it held."""
    from cm_tracker.models import LabFormat
    from cm_tracker.services.usecases.lab_results import receive

    body = ("record_number,accession,collected_at,loinc,result,status\n" + "\n".join(rows) + "\n").encode()
    with app.app_context():
        received = receive(body, LabFormat.CSV, sender=None, source="test")
        return [o.held_id for o in received.results if o.held_id is not None]


def review_status(app, result_id: int) -> tuple[str | None, str]:
    from cm_tracker.extensions import db
    from cm_tracker.models import LabResult

    with app.app_context():
        row = db.session.get(LabResult, result_id)
        return (str(row.review_status) if row.review_status else None), row.review_note


def audit_actions(app, action: str) -> list:
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                       .order_by(AuditEvent.id)))


# The review queue


def test_the_queue_lists_what_waits_oldest_first_with_what_the_lab_sent(app, client, personas):
    held(app, accession="ACC-2", record_number="MRN-001", patient_id=personas.patient, sender_id=personas.manager,
         reason="unknown code 16235-4 (Fentanyl screen)", arrived=NOW - timedelta(hours=1),
         content={"accession": "ACC-2", "record_number": "MRN-001", "collected_at": "2026-11-30T17:05:00+00:00",
                  "status": "final", "results": {"cocaine": "negative"}, "validity": "dilute", "measures": {},
                  "unknown": ["16235-4 (Fentanyl screen)"], "conflicts": [], "others": []})
    held(app, accession="ACC-1", record_number="MRN-404", reason="unknown record number MRN-404",
         source="mllp 10.0.0.5:51234", arrived=NOW - timedelta(days=1))
    sign_in(client, "ada")
    html = _text(client.get("/staff/labs/review"))
    assert "Waiting <span class=\"count\">2</span>" in html
    assert html.index("ACC-1") < html.index("ACC-2")  # oldest first
    assert "unknown record number MRN-404" in html and "unknown code 16235-4 (Fentanyl screen)" in html
    # Arrival and collection in the clinic's time (16:30 UTC = 08:30 in Los Angeles), from whom.
    assert "Sun 29 Nov 2026, 12:00 from the lab interface" in html and "mllp 10.0.0.5:51234" in html
    assert "Collected</dt><dd>Mon 30 Nov 2026, 08:30" in html and "Mon 30 Nov 2026, 09:05" in html
    assert "Mon 30 Nov 2026, 11:00 from Max Manager" in html
    assert re.search(r'cocaine</span> <span class="badge badge-failure">positive', html)
    assert re.search(r'methamphetamine</span> <span class="badge badge-success">negative', html)
    assert "valid</span> <span class=\"muted small\">from the measured values:" in html  # creatinine 85, pH 6
    assert "dilute</span>" in html and "Not in the map</span> <span class=\"mono\">16235-4 (Fentanyl screen)" in html
    assert "Pat Patient" in html


def test_viewing_the_queue_is_audited_naming_the_patients_shown(app, client, personas):
    held(app, accession="ACC-1", record_number="MRN-001", patient_id=personas.patient, reason="conflict")
    sign_in(client, "max")
    assert client.get("/staff/labs/review").status_code == 200
    [row] = audit_actions(app, "lab_review.view")
    assert row.listed_patient_ids == [personas.patient]


def test_a_counselor_sees_only_held_results_of_their_own_patients(app, client, personas):
    own = held(app, accession="ACC-OWN", record_number="MRN-001", patient_id=personas.patient, reason="conflict")
    other = held(app, accession="ACC-OLIVE", record_number="MRN-002", patient_id=personas.other_patient,
                 reason="conflict")
    unknown = held(app, accession="ACC-NOBODY", record_number="MRN-404", reason="unknown record number MRN-404")
    sign_in(client, "cora")
    html = _text(client.get("/staff/labs/review"))
    assert "ACC-OWN" in html and "ACC-OLIVE" not in html and "ACC-NOBODY" not in html
    assert client.get(f"/staff/labs/review/{own}/match").status_code == 200
    for result_id in (other, unknown):
        assert client.get(f"/staff/labs/review/{result_id}/match").status_code == 404
        assert client.post(f"/staff/labs/review/{result_id}/dismiss",
                           data={f"dismiss-{result_id}-reason": "x"}).status_code == 404
        assert client.post(f"/staff/labs/review/{result_id}/match",
                           data={"patient_id": personas.patient}).status_code == 404
    assert review_status(app, unknown) == ("waiting", "")
    assert len(audit_actions(app, "lab_result.view")) >= 6  # every refusal on record


def test_dismissing_needs_a_reason_shown_beside_the_field(app, client, personas):
    result = held(app, accession="ACC-1", record_number="MRN-404", reason="unknown record number MRN-404")
    sign_in(client, "ada")
    response = client.post(f"/staff/labs/review/{result}/dismiss", data={f"dismiss-{result}-reason": "   "})
    assert response.status_code == 422
    html = _text(response)
    assert re.search(r'<details class="dismiss" open>', html)
    assert re.search(r'class="field-error" id="dismiss-\d+-reason-error">', html)
    assert review_status(app, result) == ("waiting", "")


def test_a_refused_dismissal_keeps_what_was_typed(app, client, personas):
    result = held(app, accession="ACC-1", record_number="MRN-404", reason="unknown record number MRN-404")
    sign_in(client, "ada")
    typed = "Test specimen " + "x" * 500
    response = client.post(f"/staff/labs/review/{result}/dismiss", data={f"dismiss-{result}-reason": typed})
    assert response.status_code == 422
    assert typed in response.get_data(as_text=True) and "Keep the reason to at most 500 characters." in _text(response)


def test_dismissing_with_a_reason_resolves_it_and_shows_who_and_why(app, client, personas):
    result = held(app, accession="ACC-1", record_number="MRN-404", reason="unknown record number MRN-404")
    sign_in(client, "ada")
    response = client.post(f"/staff/labs/review/{result}/dismiss",
                           data={f"dismiss-{result}-reason": "Test specimen from the lab's set-up"},
                           follow_redirects=True)
    html = _text(response)
    assert "Dismissed the result of accession ACC-1: Test specimen from the lab&#39;s set-up" in html
    assert "Waiting <span class=\"count\">0</span>" in html
    assert "Recently resolved <span class=\"count\">1</span>" in html
    assert re.search(r"Dismissed</span></td> <td data-label=\"By\">Ada Admin</td> <td data-label=\"Note\">"
                     r"Test specimen from the lab&#39;s set-up", html)
    assert review_status(app, result) == ("dismissed", "Test specimen from the lab's set-up")


def test_a_second_dismissal_of_the_same_result_says_it_no_longer_waits(app, client, personas):
    result = held(app, accession="ACC-1", record_number="MRN-404", reason="unknown record number MRN-404")
    sign_in(client, "ada")
    data = {f"dismiss-{result}-reason": "Duplicate of ACC-0"}
    assert client.post(f"/staff/labs/review/{result}/dismiss", data=data).status_code == 302
    second = client.post(f"/staff/labs/review/{result}/dismiss", data=data)
    assert second.status_code == 302 and second.headers["Location"].endswith("/staff/labs/review")
    html = _text(client.get("/staff/labs/review"))
    assert "no longer waiting" in html
    again = client.post(f"/staff/labs/review/{result}/apply", follow_redirects=True)
    assert again.status_code == 200 and "no longer waiting" in _text(again)
    assert client.get(f"/staff/labs/review/{result}/match", follow_redirects=True).status_code == 200


def test_matching_an_unknown_record_number_applies_it_to_the_chosen_patient(app, client, personas):
    [result] = receive_csv(app, ["MRN-404,ACC-9,2026-11-30T08:30:00-08:00,19554-5,negative,final",
                                 "MRN-404,ACC-9,2026-11-30T08:30:00-08:00,14314-9,negative,final"])
    sign_in(client, "ada")
    page = _text(client.get(f"/staff/labs/review/{result}/match?q=pat"))
    assert "Pat Patient" in page and "Olive Other" not in page
    chosen = _text(client.get(f"/staff/labs/review/{result}/match?q=pat&patient_id={personas.patient}"))
    assert "Apply to Pat Patient (MRN-001)?" in chosen and "The lab sent record number" in chosen
    response = client.post(f"/staff/labs/review/{result}/match", data={"patient_id": personas.patient},
                           follow_redirects=True)
    html = _text(response)
    assert "Applied to Pat Patient (MRN-001): specimen created" in html
    assert review_status(app, result)[0] == "matched"
    assert "Recently resolved <span class=\"count\">1</span>" in html and "Ada Admin" in html


def test_the_match_search_finds_only_patients_the_viewer_may_see(app, client, personas):
    result = held(app, accession="ACC-1", record_number="MRN-001", patient_id=personas.patient,
                  reason="an accession that belongs to another patient")
    sign_in(client, "cora")
    page = _text(client.get(f"/staff/labs/review/{result}/match?q=MRN-00"))
    assert "Pat Patient" in page and "Olive Other" not in page
    assert client.get(f"/staff/labs/review/{result}/match?patient_id={personas.other_patient}").status_code == 404
    assert client.post(f"/staff/labs/review/{result}/match",
                       data={"patient_id": personas.other_patient}).status_code == 404
    assert review_status(app, result) == ("waiting", "")


def _held_for_the_new_code(app) -> int:
    [result] = receive_csv(app, [f"MRN-001,ACC-7,2026-11-30T08:30:00-08:00,{NEW_CODE},negative,final",
                                 "MRN-001,ACC-7,2026-11-30T08:30:00-08:00,19554-5,negative,final"])
    return result


def test_adding_a_code_offers_the_results_held_for_it(app, client, personas):
    _held_for_the_new_code(app)
    sign_in(client, "ada")
    assert NEW_CODE in _text(client.get("/staff/labs/review"))
    added = client.post("/staff/labs/codes", data={"code": NEW_CODE, "analyte": "cocaine", "note": "Acme lab"},
                        follow_redirects=True)
    html = _text(added)
    assert f"Added {NEW_CODE}: its results count for cocaine." in html
    assert f"1 held result waited for {NEW_CODE}." in html and f"/staff/labs/review?code={NEW_CODE}" in html
    filtered = _text(client.get(f"/staff/labs/review?code={NEW_CODE}"))
    assert "ACC-7" in filtered and f"Showing the results held for code <span class=\"mono\">{NEW_CODE}" in filtered
    assert "ACC-7" not in _text(client.get("/staff/labs/review?code=19554-5"))


def test_apply_again_after_the_code_was_added_applies_the_held_result(app, client, personas):
    result = _held_for_the_new_code(app)
    sign_in(client, "ada")
    client.post("/staff/labs/codes", data={"code": NEW_CODE, "analyte": "cocaine", "note": ""})
    response = client.post(f"/staff/labs/review/{result}/apply", follow_redirects=True)
    assert "Applied to Pat Patient (MRN-001): specimen created" in _text(response)
    assert review_status(app, result)[0] == "matched"


def test_apply_again_while_the_code_is_still_unknown_says_why_it_stays_held(app, client, personas):
    result = _held_for_the_new_code(app)
    sign_in(client, "ada")
    response = client.post(f"/staff/labs/review/{result}/apply", follow_redirects=True)
    assert response.status_code == 200
    assert f"Still held: Unknown code {NEW_CODE}: the LOINC map does not say" in _text(response)
    assert review_status(app, result) == ("waiting", "")


# Lab messages


def test_the_messages_page_lists_arrivals_newest_first(app, client, personas):
    held(app, accession="ACC-OLD", record_number="MRN-001", reason="r", arrived=NOW - timedelta(days=2),
         source="file results.csv")
    held(app, accession="ACC-NEW", record_number="MRN-001", reason="r", arrived=NOW - timedelta(hours=1),
         sender_id=personas.manager)
    sign_in(client, "max")
    html = _text(client.get("/staff/labs/messages"))
    assert "Received <span class=\"count\">2</span>" in html
    assert html.index("Mon 30 Nov 2026, 11:00:00") < html.index("Sat 28 Nov 2026, 12:00:00")
    assert "Max Manager" in html and "file results.csv" in html and "1 held" in html


def test_a_message_shows_its_body_escaped_and_its_results_and_the_view_is_audited(app, client, personas):
    body = b"record_number,accession\nMRN-001,<script>alert(1)</script>\n\xff\xfe end\n"
    held(app, accession="ACC-1", record_number="MRN-001", patient_id=personas.patient, reason="conflict",
         body=body)
    from cm_tracker.extensions import db
    from cm_tracker.models import LabMessage

    with app.app_context():
        message_id = db.session.scalar(select(LabMessage.id))
    sign_in(client, "ada")
    html = client.get(f"/staff/labs/messages/{message_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "\ufffd\ufffd end" in html
    assert "ACC-1" in html and "Pat Patient" in html and "conflict" in html
    [row] = audit_actions(app, "lab_message.view")
    assert row.object_id == str(message_id) and row.listed_patient_ids == [personas.patient]
    assert client.get("/staff/labs/messages/999999").status_code == 404


def test_counselors_may_not_read_lab_messages(app, client, personas):
    sign_in(client, "cora")
    assert client.get("/staff/labs/messages").status_code == 403
    assert client.get("/staff/labs/messages/1").status_code == 403


# The LOINC map


def test_the_codes_page_shows_the_built_in_map_and_the_clinics_codes(app, client, personas):
    sign_in(client, "max")
    client.post("/staff/labs/codes", data={"code": NEW_CODE, "analyte": "cocaine", "note": "Acme lab screen"})
    html = _text(client.get("/staff/labs/codes"))
    assert re.search(r"19554-5</span></th> <td data-label=\"Counts for\">methamphetamine</td> <td data-label=\"Kind\">"
                     r"<span class=\"badge badge-completed\">Built in", html)
    assert "amphetamine and methamphetamine" in html  # 76492-8, one result for both keys
    assert re.search(rf"{NEW_CODE}</span></th> <td data-label=\"Counts for\">cocaine</td> <td data-label=\"Note\">"
                     r"Acme lab screen</td> <td data-label=\"Added by\">Max Manager</td> <td data-label=\"Added\">"
                     r"Mon 30 Nov 2026", html)
    [row] = audit_actions(app, "lab_code.add")
    assert row.detail == {"code": NEW_CODE, "analytes": ["cocaine"], "note": "Acme lab screen"}


@pytest.mark.parametrize(("code", "message"), [
    ("16235-5", "16235-5 fails LOINC&#39;s check digit: check the code for a typo."),
    ("16235", "A LOINC code is up to 7 digits, a hyphen and a check digit, like 19554-5."),
    ("19554-5", "19554-5 is built in: it counts for methamphetamine already."),
    ("2161-8", "2161-8 is built in: it is a validity measure (creatinine)."),
])
def test_a_code_that_cannot_be_added_is_refused_beside_the_field_and_kept(app, client, personas, code, message):
    sign_in(client, "ada")
    response = client.post("/staff/labs/codes", data={"code": code, "analyte": "cocaine", "note": "typed note"})
    assert response.status_code == 422
    html = _text(response)
    assert re.search(r'<p class="field-error" id="code-error"><span class="visually-hidden">Error: </span>'
                     + re.escape(message), html)
    assert f'value="{code}"' in html and 'value="typed note"' in html
    assert audit_actions(app, "lab_code.add") == []


def test_real_codes_pass_the_check_digit_and_a_typo_does_not():
    from cm_tracker.services.usecases.lab_codes import check_digit

    for code in ("19554-5", "14314-9", "2161-8", "76492-8", "93495-0", "19321-9"):
        digits, check = code.split("-")
        assert check_digit(digits) == int(check), code
    assert check_digit("19545") != 5  # two digits swapped


def test_a_code_already_added_is_refused(app, client, personas):
    sign_in(client, "ada")
    client.post("/staff/labs/codes", data={"code": NEW_CODE, "analyte": "cocaine", "note": ""})
    response = client.post("/staff/labs/codes", data={"code": NEW_CODE, "analyte": "opiates", "note": ""})
    assert response.status_code == 422
    assert f"{NEW_CODE} is in the clinic&#39;s codes already (for cocaine)." in _text(response)


def test_an_analyte_outside_the_known_keys_is_refused(app, client, personas):
    sign_in(client, "ada")
    response = client.post("/staff/labs/codes", data={"code": NEW_CODE, "analyte": "chocolate", "note": ""})
    assert response.status_code == 422 and "Not a valid choice" in _text(response)


def test_a_clinic_code_is_removed_after_confirmation(app, client, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import LoincCode

    sign_in(client, "ada")
    client.post("/staff/labs/codes", data={"code": NEW_CODE, "analyte": "cocaine", "note": ""})
    with app.app_context():
        code_id = db.session.scalar(select(LoincCode.id))
    confirm = _text(client.get(f"/staff/labs/codes/{code_id}/remove"))
    assert f"Remove <span class=\"mono\">{NEW_CODE}</span>?" in confirm and "Results already applied keep" in confirm
    response = client.post(f"/staff/labs/codes/{code_id}/remove", follow_redirects=True)
    assert f"Removed {NEW_CODE} from the clinic&#39;s codes." in _text(response)
    with app.app_context():
        assert db.session.scalar(select(LoincCode.id)) is None
    again = client.post(f"/staff/labs/codes/{code_id}/remove", follow_redirects=True)
    assert "it may have been removed already" in _text(again)
    assert [r.detail["code"] for r in audit_actions(app, "lab_code.remove")] == [NEW_CODE]


def test_counselors_read_the_map_but_may_not_change_it(app, client, personas):
    sign_in(client, "cora")
    html = _text(client.get("/staff/labs/codes"))
    assert "19554-5" in html and "Add a code" not in html
    assert client.post("/staff/labs/codes", data={"code": NEW_CODE, "analyte": "cocaine"}).status_code == 403
    assert client.get("/staff/labs/codes/1/remove").status_code == 403


# The caseload


def test_the_caseload_says_how_many_results_the_viewer_may_review(app, client, personas):
    held(app, accession="ACC-1", record_number="MRN-001", patient_id=personas.patient, reason="conflict")
    held(app, accession="ACC-2", record_number="MRN-404", reason="unknown record number MRN-404")
    held(app, accession="ACC-3", record_number="MRN-002", patient_id=personas.other_patient, reason="conflict")
    sign_in(client, "ada")
    assert "3 lab results wait for review" in _text(client.get("/staff/"))
    client.get("/sign-out")
    cora = app.test_client()
    sign_in(cora, "cora")
    html = _text(cora.get("/staff/"))
    assert '<a href="/staff/labs/review">1 lab result waits for review</a>' in html


def test_the_caseload_says_nothing_when_nothing_waits(app, client, personas):
    sign_in(client, "cora")
    assert "wait for review" not in _text(client.get("/staff/"))


def test_the_count_is_one_statement(app, personas):
    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.permissions import lab_result_scope
    from cm_tracker.services.queries.lab_review import waiting_count

    held(app, accession="ACC-1", record_number="MRN-001", patient_id=personas.patient, reason="conflict")
    with app.app_context():
        cora = db.session.get(User, personas.counselor)
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert waiting_count(lab_result_scope(cora)) == 1
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert len(seen) == 1
