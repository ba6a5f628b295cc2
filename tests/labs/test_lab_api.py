"""POST /api/v1/lab-results (docs/api.md "Lab results"): the three formats through the API with a lab account's token,
what each answer says, the refusals (400 naming where, 413, 415, 401, 403) and the lab role's reach."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpers import PASSWORD, api_token

DATA = Path(__file__).parent / "data"
URL = "/api/v1/lab-results"
HL7 = "application/hl7-v2"
FHIR = "application/fhir+json"
CSV = "text/csv"
HEADER = "record_number,accession,collected_at,loinc,result,status\n"
NEGATIVES = HEADER + ("MRN-001,ACC-2001,2026-11-30T08:30:00-08:00,19554-5,negative,final\n"
                      "MRN-001,ACC-2001,2026-11-30T08:30:00-08:00,43984-4,negative,final\n")
# A day after the samples' collection (30 Nov 2026), Pat (MRN-001) enrolled since 2 Nov.
pytestmark = pytest.mark.time_machine("2026-12-01T18:00:00Z")


@pytest.fixture
def lab(app, personas) -> dict[str, str]:
    """A lab's integration account ("acme-lab"), made as an admin makes one, and its bearer token."""
    from cm_tracker.services.usecases import accounts

    with app.app_context():
        accounts.create_user(username="acme-lab", password=PASSWORD, role="lab", display_name="ACME Labs",
                             must_change_password=True)
    return api_token(app.test_client(), "acme-lab")


def _send(client, headers, body: bytes | str, content_type: str):
    return client.post(URL, data=body, headers={**headers, "Content-Type": content_type})


def _sample(name: str) -> bytes:
    return DATA.joinpath(name).read_bytes()


def _specimen_count(app) -> int:
    from cm_tracker.extensions import db
    from cm_tracker.models import Specimen

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Specimen))


def _by_accession(body) -> dict[str, dict]:
    return {r["accession"]: r for r in body["results"]}


def _assert_acc_1001_created(body, personas) -> None:
    """The samples' ACC-1001: Pat's cup, methamphetamine negative and cocaine (benzoylecgonine) positive."""
    result = _by_accession(body)["ACC-1001"]
    assert (result["action"], result["record_number"], result["patient_id"]) == ("created", "MRN-001",
                                                                                  personas.patient)
    assert isinstance(result["specimen_id"], int) and result["reason"] is None
    assert result["outcomes"] == {"stimulants": "failure"}
    [award] = result["awards"]  # a positive earns nothing, and says so
    assert (award["points"], award["draws"], award["event"]) == (0, 0, {"type": "specimen",
                                                                      "id": result["specimen_id"]})
    assert award["reason"].startswith("Positive for cocaine") and result["adjustments"] == []
    assert isinstance(body["message_id"], int)


def test_an_hl7_oru_r01_creates_the_specimen_and_says_so(client, app, personas, lab):
    response = _send(client, lab, _sample("oru_r01.hl7"), HL7)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    _assert_acc_1001_created(body, personas)
    assert (len(body["results"]), body["held"], body["ignored"]) == (1, 0, 0)


@pytest.mark.parametrize("content_type", [FHIR, "application/json", "application/fhir+json; charset=utf-8"])
def test_a_fhir_bundle_creates_the_specimen_and_counts_what_it_ignored(client, app, personas, lab, content_type):
    response = _send(client, lab, _sample("bundle.json"), content_type)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    _assert_acc_1001_created(body, personas)
    assert (body["held"], body["ignored"]) == (0, 1)  # the DiagnosticReport


def test_a_csv_applies_its_good_rows_and_holds_the_others_with_their_reasons(client, app, personas, lab):
    response = _send(client, lab, _sample("results.csv"), CSV)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    _assert_acc_1001_created(body, personas)
    held = {a: r for a, r in _by_accession(body).items() if r["action"] == "held"}
    assert set(held) == {"ACC-1002", "ACC-1003"} and body["held"] == 2
    assert "collected_at" in held["ACC-1002"]["reason"]  # 30/11/2026 is no ISO date
    assert held["ACC-1003"]["record_number"] == "MRN-003" and held["ACC-1003"]["patient_id"] is None
    assert all(r["specimen_id"] is None and r["awards"] == [] for r in held.values())


def test_a_negative_result_posts_its_award_serialised_as_the_desk_s(client, app, personas, lab):
    body = _send(client, lab, NEGATIVES, CSV).get_json()
    [result] = body["results"]
    assert (result["action"], result["outcomes"]) == ("created", {"stimulants": "success"})
    assert result["awards"] == [{"target": "stimulants", "points": 10, "draws": 0, "value_cents": 250,
                                 "reason": result["awards"][0]["reason"],
                                 "event": {"type": "specimen", "id": result["specimen_id"]}}]
    balance = client.get(f"/api/v1/patients/{personas.patient}/balance", headers=api_token(client, "cora"))
    assert balance.get_json()["points"] == 10


def test_the_same_body_again_changes_nothing(client, app, personas, lab):
    first = _send(client, lab, NEGATIVES, CSV).get_json()
    again = _send(client, lab, NEGATIVES, CSV)
    assert again.status_code == 200
    [result] = again.get_json()["results"]
    assert (result["action"], result["specimen_id"]) == ("unchanged", first["results"][0]["specimen_id"])
    assert result["awards"] == [] and result["adjustments"] == []
    assert _specimen_count(app) == 1


def test_a_cup_sent_to_the_lab_from_the_desk_is_completed_by_its_result(client, app, personas, lab):
    desk = client.post(f"/api/v1/patients/{personas.patient}/specimens", headers=api_token(client, "cora"), json={
        "collected_at": "2026-11-30T08:30:00-08:00", "status": "pending", "method": "lab", "accession": "ACC-2001"})
    assert desk.status_code == 201
    [result] = _send(client, lab, NEGATIVES, CSV).get_json()["results"]
    assert (result["action"], result["specimen_id"]) == ("completed", desk.get_json()["id"])
    assert result["outcomes"] == {"stimulants": "success"} and result["awards"] == []
    # The pending cup's 0 points, corrected to the negative's 10, naming the lab and the accession.
    [adjustment] = result["adjustments"]
    assert (adjustment["points"], adjustment["value_cents"], adjustment["event"]) == (
        10, 250, {"type": "specimen", "id": result["specimen_id"]})
    assert "ACC-2001" in adjustment["reason"] and "Was 0 points, now 10 points." in adjustment["reason"]


@pytest.mark.parametrize(("body", "content_type", "where"), [
    (b"PID|1||MRN-001\rOBX|1|ST|19554-5^Meth^LN||NEG||||||F\r", HL7, "MSH"),
    (b'{"resourceType": "Bundle", "entry": [', FHIR, "line 1"),
    (b'{"resourceType": "Observation", "status": "final", "code": {"coding": []}}', FHIR, "code"),
    (b"mrn,when,what\nMRN-001,2026-11-30,NEG\n", CSV, "line 1"),
])
def test_an_unreadable_body_is_400_naming_where_and_applies_nothing(client, app, personas, lab, body,
                                                                    content_type, where):
    response = _send(client, lab, body, content_type)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "malformed_lab_body" and where in error["message"]
    assert _specimen_count(app) == 0


def test_a_body_over_the_lab_limit_is_413(client, app, personas, lab, monkeypatch):
    monkeypatch.setitem(app.config, "LAB_MAX_BODY_BYTES", 4096)
    response = _send(client, lab, NEGATIVES + "\n" * 5000, CSV)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large" and "4096" in response.get_json()[
        "error"]["message"]
    assert _specimen_count(app) == 0


def test_a_body_over_the_api_s_usual_limit_is_read_whole_on_this_route(client, app, personas, lab):
    padded = NEGATIVES + "\n" * (app.config["MAX_CONTENT_LENGTH"] + 1000)
    response = _send(client, lab, padded, CSV)
    assert response.status_code == 200, response.get_json()
    assert [r["action"] for r in response.get_json()["results"]] == ["created"]


def test_the_usual_limit_still_holds_on_other_routes(client, app, personas):
    big = b'{"name": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10) + b'"}'
    response = client.post("/api/v1/rewards", data=big,
                           headers={**api_token(client, "ada"), "Content-Type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded", ""])
def test_another_media_type_is_415(client, app, personas, lab, content_type):
    response = _send(client, lab, NEGATIVES, content_type)
    assert response.status_code == 415
    error = response.get_json()["error"]
    assert error["code"] == "unsupported_media_type" and "text/csv" in error["message"]


def test_without_a_token_it_is_401(client, personas):
    response = _send(client, {}, NEGATIVES, CSV)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_a_counselor_may_not_send_lab_results(client, app, personas):
    response = _send(client, api_token(client, "cora"), NEGATIVES, CSV)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert _specimen_count(app) == 0


def test_a_patient_learns_nothing_of_it(client, app, personas):
    assert _send(client, api_token(client, "pat"), NEGATIVES, CSV).status_code == 404


@pytest.mark.parametrize("username", ["ada", "max"])
def test_admins_and_managers_may_send_lab_results(client, app, personas, username):
    response = _send(client, api_token(client, username), NEGATIVES, CSV)
    assert response.status_code == 200
    assert [r["action"] for r in response.get_json()["results"]] == ["created"]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/programs"), ("GET", "/patients"), ("POST", "/patients"), ("GET", "/rewards"), ("GET", "/users"),
    ("GET", "/me/balance"), ("GET", "/reports/outcomes"), ("GET", "/presets")])
def test_a_lab_token_is_refused_elsewhere_with_403(client, personas, lab, method, path):
    response = client.open(f"/api/v1{path}", method=method, headers=lab, json={} if method == "POST" else None)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/patients/{p}"), ("GET", "/patients/{p}/balance"), ("POST", "/patients/{p}/specimens"),
    ("GET", "/patients/{p}/ledger"), ("GET", "/patients/999999/balance")])
def test_a_lab_token_finds_no_patient_path(client, personas, lab, method, path):
    response = client.open(f"/api/v1{path.format(p=personas.patient)}", method=method, headers=lab,
                           json={} if method == "POST" else None)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_a_lab_account_is_made_by_an_admin_through_the_api_and_takes_a_token(client, personas):
    created = client.post("/api/v1/users", headers=api_token(client, "ada"), json={
        "username": "reflab", "password": PASSWORD, "role": "lab", "display_name": "Reference lab"})
    assert created.status_code == 201
    assert (created.get_json()["role"], created.get_json()["must_change_password"]) == ("lab", False)
    token = client.post("/api/v1/auth/tokens", json={"username": "reflab", "password": PASSWORD})
    assert token.status_code == 201 and token.get_json()["user"]["role"] == "lab"
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    assert _send(client, headers, NEGATIVES, CSV).status_code == 200


def test_a_lab_account_never_waits_on_a_password_change_it_could_not_make(client, app, personas, lab):
    """It cannot sign in on the web, so the admin's "ask for a new password" is not set for it, even on a reset."""
    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.services.usecases import accounts

    with app.app_context():
        account = db.session.scalar(select(User).where(User.username == "acme-lab"))
        assert account.must_change_password is False
        temporary = accounts.reset_password(account, actor=db.session.get(User, personas.admin))
        assert db.session.get(User, account.id).must_change_password is False
    response = client.post("/api/v1/auth/tokens", json={"username": "acme-lab", "password": temporary})
    headers = {"Authorization": f"Bearer {response.get_json()['token']}"}
    assert _send(client, headers, NEGATIVES, CSV).status_code == 200


def test_the_admin_page_offers_the_lab_role(client, personas):
    from helpers import sign_in

    sign_in(client, "ada")
    html = client.get("/admin/users/new").get_data(as_text=True)
    assert 'value="lab"' in html and "integration account" in html
    response = client.post("/admin/users/new", data={
        "username": "acme2", "display_name": "ACME 2", "role": "lab", "password": PASSWORD,
        "must_change_password": "y"})
    assert response.status_code == 302


def test_signing_in_on_the_web_as_a_lab_explains_it_is_an_integration_account(client, app, personas, lab):
    from cm_tracker.extensions import db
    from cm_tracker.models import AuditEvent

    response = client.post("/sign-in", data={"username": "acme-lab", "password": PASSWORD})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "integration account for lab results" in html and "POST /api/v1/lab-results" in html
    assert client.get("/staff/").status_code == 302  # still signed out
    with app.app_context():
        denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.sign_in")).all()
        assert [(str(e.outcome), e.detail) for e in denied][-1] == ("denied", {"reason": "integration_account"})


def test_a_wrong_password_for_a_lab_account_says_only_that(client, personas, lab):
    html = client.post("/sign-in", data={"username": "acme-lab", "password": "wrong password"}).get_data(
        as_text=True)
    assert "The username or password is not right." in html and "integration" not in html


@pytest.mark.parametrize("path", ["/", "/staff/", "/portal/", "/admin/", "/reports/", "/catalog/", "/programmes/",
                                  "/sign-in", "/account/password", "/staff/patients/1"])
def test_a_lab_session_however_obtained_opens_no_page(client, app, personas, lab, path):
    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.security import SESSION_KEY
    from cm_tracker.services.usecases import sessions

    with app.app_context():
        account = db.session.scalar(select(User).where(User.username == "acme-lab"))
        raw = sessions.start_session(account, "127.0.0.1")
        user_id = str(account.id)
    with client.session_transaction() as session:
        session[SESSION_KEY], session["_user_id"], session["_fresh"] = raw, user_id, True
    response = client.get(path)
    assert response.status_code == 403, (path, response.status_code)
    assert "Not allowed for your role" in response.get_data(as_text=True)
