"""Every route against every role (docs/api.md "Who may do what").

Each route of the app must have a rule here: a new route without one fails `test_every_route_has_a_rule`, so reach
is decided deliberately, never by accident. Denials: pages send anonymous visitors to sign in, give staff without
the role 403 and patients 404; the API gives 401 without a token, 403 for a role that may not and 404 to patients
and to staff outside their caseload.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from helpers import PASSWORD

ROLES = ("anonymous", "admin", "manager", "counselor", "other_counselor", "patient")
USERNAMES = {"admin": "ada", "manager": "max", "counselor": "cora", "other_counselor": "otto", "patient": "pat"}
STAFF = {"admin", "manager", "counselor", "other_counselor"}
SIGNED_IN = STAFF | {"patient"}
# A lab's integration account (docs/api.md "Lab results"): POST /lab-results and nothing else, no page either. Not
# one of ROLES: its cases are one world's loop each (test_a_lab_account_*), to keep the matrix quick.
LAB = "lab"
EVERYONE = {*ROLES, LAB}


@dataclass(frozen=True)
class Rule:
    method: str
    path: str  # {patient} is the counselor's own patient; {program}, {user} exist too
    allowed: frozenset[str]
    # Routes whose allowed call changes state are checked for their denials only (their tests cover the rest).
    denials_only: bool = False
    # A staff role outside the rule's roles but within the blueprint sees 403; patients and outsiders 404.
    out_of_reach: frozenset[str] = frozenset()
    # What a patient's token is told: 404 for staff paths, 403 under /me (docs/api.md: a /me path is theirs to ask).
    patient_status: int = 404


def rule(method: str, path: str, allowed: set[str], **kw: object) -> Rule:
    kw = {k: frozenset(v) if isinstance(v, set) else v for k, v in kw.items()}
    return Rule(method, path, frozenset(allowed), **kw)  # type: ignore[arg-type]


# The rewards desk, receipts, catalog and manual adjustments ({reward}, {redemption}, {draw} from the matrix world).
OWN_PAGE = {"admin", "counselor"}
STAFF_PAGE = {"admin", "manager", "counselor", "other_counselor"}
REWARD_PAGES = {
    "staff.patient_rewards": rule("GET", "/staff/patients/{patient}/rewards", OWN_PAGE,
                                  out_of_reach={"other_counselor"}),
    "staff.redeem": rule("POST", "/staff/patients/{patient}/rewards/redeem", OWN_PAGE, denials_only=True,
                         out_of_reach={"other_counselor"}),
    "staff.draw": rule("POST", "/staff/patients/{patient}/rewards/draw", OWN_PAGE, denials_only=True,
                       out_of_reach={"other_counselor"}),
    "staff.fulfil": rule("POST", "/staff/redemptions/{redemption}/fulfil", OWN_PAGE, denials_only=True,
                         out_of_reach={"other_counselor"}),
    "staff.cancel_request": rule("POST", "/staff/redemptions/{redemption}/cancel", OWN_PAGE, denials_only=True,
                                 out_of_reach={"other_counselor"}),
    "staff.hand_over": rule("POST", "/staff/draws/{draw}/handover", OWN_PAGE, denials_only=True,
                            out_of_reach={"other_counselor"}),
    "staff.hand_over_group": rule("POST", "/staff/patients/{patient}/prizes/handover", OWN_PAGE, denials_only=True,
                                  out_of_reach={"other_counselor"}),
    "staff.redemption_receipt": rule("GET", "/staff/redemptions/{redemption}/receipt", OWN_PAGE,
                                     out_of_reach={"other_counselor"}),
    "staff.prize_receipt": rule("GET", "/staff/draws/{draw}/receipt", OWN_PAGE, out_of_reach={"other_counselor"}),
    "catalog.index": rule("GET", "/catalog/", STAFF_PAGE),
    "catalog.reward": rule("GET", "/catalog/rewards/{reward}", STAFF_PAGE),
    "catalog.new_reward": rule("GET", "/catalog/rewards/new", {"admin", "manager"}),
    "catalog.edit_reward": rule("GET", "/catalog/rewards/{reward}/edit", {"admin", "manager"}),
    "catalog.restock": rule("POST", "/catalog/rewards/{reward}/restock", {"admin", "manager"}, denials_only=True),
    "catalog.count": rule("POST", "/catalog/rewards/{reward}/count", {"admin", "manager"}, denials_only=True),
    "catalog.handover_confirmation": rule("POST", "/catalog/programmes/{program}/handover-confirmation",
                                          {"admin", "manager"}, denials_only=True),
    "catalog.adjustments_page": rule("GET", "/catalog/adjustments", {"admin", "manager"}),
}
_OWN, _WRITE, _ALL_STAFF = {"admin", "manager", "counselor"}, {"admin", "counselor"}, STAFF_PAGE
REWARD_API = {
    "api.create_reward": rule("POST", "/rewards", {"admin", "manager"}),
    "api.list_rewards": rule("GET", "/rewards", _ALL_STAFF),
    "api.create_redemption": rule("POST", "/patients/{patient}/redemptions", _WRITE, out_of_reach={"other_counselor"}),
    "api.list_redemptions": rule("GET", "/patients/{patient}/redemptions", _OWN, out_of_reach={"other_counselor"}),
    "api.fulfil_redemption": rule("POST", "/redemptions/{redemption}/fulfil", _WRITE,
                                  out_of_reach={"other_counselor"}),
    "api.cancel_redemption": rule("POST", "/redemptions/{redemption}/cancel", _WRITE,
                                  out_of_reach={"other_counselor"}),
    "api.post_adjustment": rule("POST", "/patients/{patient}/adjustments", {"admin", "manager"}),
    "api.waiting_prizes": rule("GET", "/patients/{patient}/prizes", _OWN, out_of_reach={"other_counselor"}),
    "api.hand_over_prize": rule("POST", "/draws/{draw}/handover", _WRITE, out_of_reach={"other_counselor"}),
}
_OWN_PAGE = {"out_of_reach": {"other_counselor"}}
_DESK = "/staff/patients/{patient}"
DESK_PAGES = {
    "staff.enrol": rule("GET", "/staff/patients/new", {"admin", "counselor", "other_counselor"}),
    "staff.end_enrollment": rule("GET", f"{_DESK}/enrollment/end", OWN_PAGE, **_OWN_PAGE),
    "staff.record_visit": rule("GET", f"{_DESK}/visits/{{visit}}/record", OWN_PAGE, **_OWN_PAGE),
    "staff.record_unscheduled": rule("GET", f"{_DESK}/specimens/new", OWN_PAGE, **_OWN_PAGE),
    "staff.specimen_result": rule("GET", f"{_DESK}/specimens/{{specimen}}", OWN_PAGE, **_OWN_PAGE),
    "staff.correct_specimen_page": rule("GET", f"{_DESK}/specimens/{{specimen}}/correct", OWN_PAGE, **_OWN_PAGE),
    "staff.correct_attendance_page": rule("GET", f"{_DESK}/attendance/{{attendance}}/correct", OWN_PAGE,
                                          **_OWN_PAGE),
    "staff.specimen_corrected": rule("GET", f"{_DESK}/specimens/{{specimen}}/corrected", OWN_PAGE, **_OWN_PAGE),
    "staff.attendance_corrected": rule("GET", f"{_DESK}/attendance/{{attendance}}/corrected", OWN_PAGE,
                                       **_OWN_PAGE),
    "staff.excuse": rule("GET", f"{_DESK}/excuses/new", OWN_PAGE, **_OWN_PAGE),
    "staff.edit_patient": rule("GET", f"{_DESK}/edit", OWN_PAGE, **_OWN_PAGE),
    "staff.closures": rule("GET", "/staff/closures", {"admin"}),
    "staff.rollcall_page": rule("GET", "/staff/rollcall", {"admin", "counselor", "other_counselor"}),
    "staff.activities_page": rule("GET", f"{_DESK}/activities", OWN_PAGE, **_OWN_PAGE),
    "staff.decide_activity": rule("POST", f"{_DESK}/activities/{{activity}}/verify", OWN_PAGE, denials_only=True,
                                  **_OWN_PAGE),
}
DESK_API = {
    "api.list_patients": rule("GET", "/patients", _ALL_STAFF),
    "api.update_patient": rule("PATCH", "/patients/{patient}", _OWN, **_OWN_PAGE),
    "api.end_enrollment": rule("POST", "/patients/{patient}/enrollment/end", _WRITE, **_OWN_PAGE),
    "api.create_excuse": rule("POST", "/patients/{patient}/excuses", _WRITE, **_OWN_PAGE),
    "api.change_visit_days": rule("PUT", "/patients/{patient}/visit-days", _WRITE, **_OWN_PAGE),
    "api.correct_attendance": rule("PATCH", "/attendance/{attendance}", _WRITE, **_OWN_PAGE),
    "api.list_activities": rule("GET", "/patients/{patient}/activities", _OWN, **_OWN_PAGE),
    "api.create_activity": rule("POST", "/patients/{patient}/activities", _WRITE, **_OWN_PAGE),
    "api.activity_evidence": rule("POST", "/activities/{activity}/evidence", _WRITE, **_OWN_PAGE),
    "api.verify_activity": rule("POST", "/activities/{activity}/verify", _WRITE, **_OWN_PAGE),
    "api.reject_activity": rule("POST", "/activities/{activity}/reject", _WRITE, **_OWN_PAGE),
}
# Part 2 consents and disclosures (tests/consents): staff within their reach; the revocation names consent 1, which
# the matrix world lacks (an unknown consent is answered as one out of reach), so only its denials are checked.
CONSENT_API = {
    "api.create_consent": rule("POST", "/patients/{patient}/consents", _OWN, **_OWN_PAGE),
    "api.list_consents": rule("GET", "/patients/{patient}/consents", _OWN, **_OWN_PAGE),
    "api.revoke_consent": rule("POST", "/consents/1/revocation", _OWN, denials_only=True, **_OWN_PAGE),
    "api.create_disclosure": rule("POST", "/patients/{patient}/disclosures", _OWN, **_OWN_PAGE),
    "api.list_disclosures": rule("GET", "/patients/{patient}/disclosures", _OWN, **_OWN_PAGE),
    "api.my_consents": rule("GET", "/me/consents", {"patient"}),
    "api.my_disclosures": rule("GET", "/me/disclosures", {"patient"}),
    # Consent 1 is not Pat's in the matrix world (404): tests/part2 cover the allowed call.
    "api.request_my_revocation": rule("POST", "/me/consents/1/revocation-request", {"patient"}, denials_only=True),
}
# The accounting of disclosures (tests/part2/test_accounting_*.py): every staff role, within the patient's reach.
_ACCOUNTING = f"{_DESK}/disclosures"
ACCOUNTING_PAGES = {
    "part2.accounting": rule("GET", _ACCOUNTING, _OWN, **_OWN_PAGE),
    "part2.accounting_csv": rule("GET", f"{_ACCOUNTING}.csv", _OWN, **_OWN_PAGE),
    "part2.accounting_statement": rule("GET", f"{_ACCOUNTING}/statement?lang=es", _OWN, **_OWN_PAGE),
}
# Recording a disclosure and printing its packet (tests/part2/test_disclosure_*.py): every staff role, within the
# patient's reach; the packet names disclosure 1, which the matrix world lacks (404 for everyone), so only its
# denials are checked.
DISCLOSURE_PAGES = {
    "part2.new_disclosure": rule("GET", f"{_DESK}/disclosures/new", _OWN, **_OWN_PAGE),
    "part2.packet": rule("GET", f"{_DESK}/disclosures/1/packet", _OWN, denials_only=True, **_OWN_PAGE),
}
# A patient's consents (tests/part2/test_consent_pages*.py): every staff role, within the patient's reach; the
# revocation names consent 1, which the matrix world lacks (404 for everyone), so only its denials are checked.
_CONSENTS = f"{_DESK}/consents"
CONSENT_PAGES = {
    "part2.index": rule("GET", "/staff/part2", STAFF_PAGE),
    "part2.consents": rule("GET", _CONSENTS, _OWN, **_OWN_PAGE),
    "part2.new_consent": rule("GET", f"{_CONSENTS}/new", _OWN, **_OWN_PAGE),
    "part2.consent_form": rule("GET", f"{_CONSENTS}/form?lang=es", _OWN, **_OWN_PAGE),
    "part2.revoke": rule("GET", f"{_CONSENTS}/1/revocation", _OWN, denials_only=True, **_OWN_PAGE),
}
# The lab pages (/staff/labs): every staff role reviews within their reach; oversight reads the bodies and keeps the
# LOINC map. Row ids are 1 (no such row in the matrix world): the lab tests cover the allowed calls.
_OVERSIGHT = {"admin", "manager"}
LAB_PAGES = {
    "labs.review": rule("GET", "/staff/labs/review", STAFF_PAGE),
    "labs.match_page": rule("GET", "/staff/labs/review/1/match", STAFF_PAGE, denials_only=True),
    "labs.match": rule("POST", "/staff/labs/review/1/match", STAFF_PAGE, denials_only=True),
    "labs.apply_again": rule("POST", "/staff/labs/review/1/apply", STAFF_PAGE, denials_only=True),
    "labs.dismiss": rule("POST", "/staff/labs/review/1/dismiss", STAFF_PAGE, denials_only=True),
    "labs.messages": rule("GET", "/staff/labs/messages", _OVERSIGHT),
    "labs.message": rule("GET", "/staff/labs/messages/1", _OVERSIGHT, denials_only=True),
    "labs.codes": rule("GET", "/staff/labs/codes", STAFF_PAGE),
    "labs.add_code": rule("POST", "/staff/labs/codes", _OVERSIGHT, denials_only=True),
    "labs.remove_code_page": rule("GET", "/staff/labs/codes/1/remove", _OVERSIGHT, denials_only=True),
    "labs.remove_code": rule("POST", "/staff/labs/codes/1/remove", _OVERSIGHT, denials_only=True),
}

# The second factor (tests/mfa): the code step sends anyone without a password step back to sign in (and anyone
# signed in home); the account pages are staff's; a patient's or a lab's token is 403 on /me/mfa (a /me path).
MFA_PAGES = {
    "auth.sign_in_code": rule("GET", "/sign-in/code", SIGNED_IN),
    "mfa.security": rule("GET", "/account/security/", STAFF_PAGE),
    "mfa.enrol": rule("GET", "/account/security/set-up", STAFF_PAGE),
    "mfa.regenerate": rule("POST", "/account/security/recovery-codes", STAFF_PAGE, denials_only=True),
    "mfa.turn_off": rule("POST", "/account/security/off", STAFF_PAGE, denials_only=True),
    "admin.reset_mfa": rule("GET", "/admin/users/{user}/reset-mfa", {"admin"}),
    "admin.require_mfa": rule("POST", "/admin/users/require-mfa", {"admin"}, denials_only=True),
}
MFA_API = {
    "api.enrol_mfa": rule("POST", "/me/mfa", STAFF, patient_status=403),
    "api.confirm_mfa": rule("POST", "/me/mfa/confirmation", STAFF, patient_status=403),
    "api.reset_mfa": rule("DELETE", "/users/{user}/mfa", {"admin"}, denials_only=True),
}

PAGES = {
    "main.home": rule("GET", "/", SIGNED_IN),
    "auth.sign_in": rule("GET", "/sign-in", set(ROLES)),
    "auth.sign_out": rule("POST", "/sign-out", EVERYONE, denials_only=True),
    "auth.change_password": rule("GET", "/account/password", SIGNED_IN),
    "admin.index": rule("GET", "/admin/", {"admin"}),
    "admin.audit": rule("GET", "/admin/audit", {"admin"}),
    "admin.create_user": rule("GET", "/admin/users/new", {"admin"}),
    "admin.disable_user": rule("POST", "/admin/users/{user}/disable", {"admin"}, denials_only=True),
    "admin.enable_user": rule("POST", "/admin/users/{user}/enable", {"admin"}, denials_only=True),
    "admin.reset_password": rule("GET", "/admin/users/{user}/reset-password", {"admin"}),
    "staff.close_day": rule("GET", "/staff/close-day", {"admin", "counselor", "other_counselor"}),
    "staff.caseload": rule("GET", "/staff/", {"admin", "counselor", "other_counselor"}),
    "staff.patient": rule("GET", "/staff/patients/{patient}", {"admin", "counselor"},
                          out_of_reach={"other_counselor"}),
    "patient.home": rule("GET", "/portal/", {"patient"}),
    "patient.progress": rule("GET", "/portal/progress", {"patient"}),
    "patient.history": rule("GET", "/portal/history", {"patient"}),
    "patient.rewards": rule("GET", "/portal/rewards", {"patient"}),
    "patient.request_reward": rule("POST", "/portal/rewards/request", {"patient"}, denials_only=True),
    "patient.cancel_request": rule("POST", "/portal/requests/1/cancel", {"patient"}, denials_only=True),
    "patient.receipts": rule("GET", "/portal/receipts", {"patient"}),
    "patient.receipt": rule("GET", "/portal/receipts/1", {"patient"}, denials_only=True),
    "patient.language": rule("POST", "/portal/language", {"patient"}, denials_only=True),
    "patient.privacy": rule("GET", "/portal/privacy", {"patient"}),
    "patient.withdraw_consent": rule("GET", "/portal/privacy/consents/1/withdraw", {"patient"}, denials_only=True),
    "patient.request_withdrawal": rule("POST", "/portal/privacy/consents/1/withdraw", {"patient"},
                                       denials_only=True),
    "reports.index": rule("GET", "/reports/", {"admin", "manager"}),
    "programs.index": rule("GET", "/programmes/", {"admin", "manager"}),
    "programs.new": rule("GET", "/programmes/new", {"admin", "manager"}),
    "programs.create": rule("GET", "/programmes/new/scratch", {"admin", "manager"}),
    "programs.create_from_preset": rule("GET", "/programmes/new/preset/california_rip", {"admin", "manager"}),
    "programs.show": rule("GET", "/programmes/{program}", {"admin", "manager"}),
    "programs.edit": rule("GET", "/programmes/{program}/edit", {"admin", "manager"}),
    "programs.schedule": rule("GET", "/programmes/{program}/targets/stimulants/schedule", {"admin", "manager"}),
    "reports.outcomes": rule("GET", "/reports/outcomes?program_id={program}", {"admin", "manager"}),
    "reports.fidelity": rule("GET", "/reports/fidelity?program_id={program}", {"admin", "manager"}),
    "reports.budget": rule("GET", "/reports/budget?program_id={program}", {"admin", "manager"}),
    "reports.table_csv": rule("GET", "/reports/outcomes/patients.csv?program_id={program}", {"admin", "manager"}),
    "reports.ledger_csv": rule("GET", "/reports/ledger.csv", {"admin", "manager"}),
    "reports.funders_csv": rule("GET", "/reports/funders.csv", {"admin", "manager"}),
    "reports.identified_exports": rule("GET", "/reports/exports", {"admin", "manager"}),
    "reports.identified_export": rule("GET", "/reports/exports/{export}", {"admin", "manager"}),
    "static": rule("GET", "/static/app.css", EVERYONE),
    "main.favicon": rule("GET", "/favicon.ico", EVERYONE),
    **REWARD_PAGES,
    **DESK_PAGES,
    **LAB_PAGES,
    **ACCOUNTING_PAGES,
    **CONSENT_PAGES,
    **DISCLOSURE_PAGES,
    **MFA_PAGES,
}

OWN_PATIENT = {"admin", "manager", "counselor"}
WRITE_PATIENT = {"admin", "counselor"}
API = {
    "api.openapi_document": rule("GET", "/openapi.json", EVERYONE),
    "api.create_token": rule("POST", "/auth/tokens", EVERYONE),
    # A lab's integration may retire its own token (rotation); that reaches no data.
    "api.revoke_token": rule("DELETE", "/auth/tokens/current", SIGNED_IN | {LAB}, denials_only=True),
    "api.receive_lab_results": rule("POST", "/lab-results", {"admin", "manager", LAB}),
    "api.create_user": rule("POST", "/users", {"admin"}),
    "api.list_users": rule("GET", "/users", {"admin"}),
    "api.disable_user": rule("POST", "/users/{user}/disable", {"admin"}, denials_only=True),
    "api.enable_user": rule("POST", "/users/{user}/enable", {"admin"}, denials_only=True),
    "api.create_program": rule("POST", "/programs", {"admin", "manager"}),
    "api.list_programs": rule("GET", "/programs", STAFF),
    "api.get_program": rule("GET", "/programs/{program}", STAFF),
    "api.update_program": rule("PATCH", "/programs/{program}", {"admin", "manager"}),
    "api.add_schedule_version": rule("POST", "/programs/{program}/targets/stimulants/schedules", {"admin", "manager"}),
    "api.schedule_history": rule("GET", "/programs/{program}/schedules", STAFF),
    "api.program_maximum": rule("GET", "/programs/{program}/maximum", STAFF),
    "api.list_presets": rule("GET", "/presets", STAFF),
    "api.create_patient": rule("POST", "/patients", STAFF),
    "api.get_patient": rule("GET", "/patients/{patient}", OWN_PATIENT, out_of_reach={"other_counselor"}),
    "api.patient_balance": rule("GET", "/patients/{patient}/balance", OWN_PATIENT, out_of_reach={"other_counselor"}),
    "api.patient_ledger": rule("GET", "/patients/{patient}/ledger", OWN_PATIENT, out_of_reach={"other_counselor"}),
    "api.record_specimen": rule("POST", "/patients/{patient}/specimens", WRITE_PATIENT,
                                out_of_reach={"other_counselor"}),
    "api.correct_specimen": rule("PATCH", "/specimens/{specimen}", WRITE_PATIENT,
                                 out_of_reach={"other_counselor"}),
    "api.record_attendance": rule("POST", "/patients/{patient}/attendance", WRITE_PATIENT,
                                  out_of_reach={"other_counselor"}),
    "api.draw": rule("POST", "/patients/{patient}/draws", WRITE_PATIENT, out_of_reach={"other_counselor"}),
    "api.report_outcomes": rule("GET", "/reports/outcomes?program_id={program}", {"admin", "manager"}),
    "api.report_outcomes_csv": rule("GET", "/reports/outcomes.csv?program_id={program}", {"admin", "manager"}),
    "api.my_balance": rule("GET", "/me/balance", {"patient"}),
    "api.my_ledger": rule("GET", "/me/ledger", {"patient"}),
    **REWARD_API,
    **DESK_API,
    **CONSENT_API,
    **MFA_API,
}


def test_every_route_has_a_rule(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert endpoints - set(PAGES) - set(API) == set(), "add each new route to the access matrix"
    assert set(PAGES) | set(API) <= endpoints, "the matrix names routes that no longer exist"


def _page_client(app, role):
    client = app.test_client()
    if role != "anonymous":
        response = client.post("/sign-in", data={"username": USERNAMES[role], "password": PASSWORD})
        assert response.status_code == 302
    return client


def _expected_denial_for_page(r: Rule, role: str) -> int:
    if role == "anonymous":
        return 302
    if role == "patient" or role in r.out_of_reach:
        return 404
    return 403


def _cases(rules: dict[str, Rule]) -> list[tuple[str, str]]:
    """Every (route, role) pair, less the allowed calls of state-changing routes (their own tests cover those)."""
    return [(endpoint, role) for endpoint in sorted(rules) for role in ROLES
            if not (rules[endpoint].denials_only and role in rules[endpoint].allowed)]


@pytest.mark.parametrize(("endpoint", "role"), _cases(PAGES))
def test_pages_follow_the_matrix(app, matrix, endpoint, role):
    r = PAGES[endpoint]
    client = _page_client(app, role)
    response = client.open(r.path.format(**matrix), method=r.method)
    if role in r.allowed:
        assert response.status_code in (200, 302), (endpoint, role, response.status_code)
        if response.status_code == 302:
            assert "/sign-in" not in response.headers["Location"] or endpoint == "auth.sign_in"
    else:
        expected = _expected_denial_for_page(r, role)
        assert response.status_code == expected, (endpoint, role, response.status_code)
        if expected == 302:
            assert "/sign-in" in response.headers["Location"]


def _api_headers(client, role):
    if role == "anonymous":
        return {}
    response = client.post("/api/v1/auth/tokens", json={"username": USERNAMES[role], "password": PASSWORD})
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


@pytest.mark.parametrize(("endpoint", "role"), _cases(API))
def test_the_api_follows_the_matrix(app, matrix, endpoint, role):
    r = API[endpoint]
    client = app.test_client()
    headers = _api_headers(client, role)
    response = client.open(f"/api/v1{r.path.format(**matrix)}", method=r.method, headers=headers,
                           json={} if r.method in ("POST", "PUT", "PATCH") else None)
    status = response.status_code
    if role in r.allowed:
        assert status not in (401, 403, 404), (endpoint, role, status, response.get_json())
    elif role == "anonymous":
        assert status == 401, (endpoint, role, status)
    elif role == "patient":
        assert status == r.patient_status, (endpoint, role, status)
    elif role in r.out_of_reach:
        assert status == 404, (endpoint, role, status)
    else:
        assert status == 403, (endpoint, role, status)
    if status >= 400:
        assert set(response.get_json()["error"]) >= {"code", "message"}


@pytest.fixture
def lab_account(app, matrix) -> str:
    """A lab's integration account on top of the matrix world; its username."""
    from cm_tracker.services.usecases import accounts

    with app.app_context():
        accounts.create_user(username="lina-lab", password=PASSWORD, role=LAB, display_name="Lina's lab")
    return "lina-lab"


def _lab_expects(r: Rule) -> str:
    if LAB in r.allowed:
        return "allowed"
    return "404" if "{patient}" in r.path else "403"  # patient paths are 404, as for everyone out of reach


def test_a_lab_account_reaches_the_api_as_the_matrix_says(app, matrix, lab_account):
    """Every API route in one world: the lab's only allowed write is refused for its empty body (400), so nothing
    a later call sees has changed."""
    client = app.test_client()
    token = client.post("/api/v1/auth/tokens", json={"username": lab_account, "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    wrong = []
    for endpoint, r in sorted(API.items()):
        if r.denials_only and LAB in r.allowed:
            continue
        response = client.open(f"/api/v1{r.path.format(**matrix)}", method=r.method, headers=headers,
                               json={} if r.method in ("POST", "PUT", "PATCH") else None)
        expected, status = _lab_expects(r), response.status_code
        if (status in (401, 403, 404)) if expected == "allowed" else (str(status) != expected):
            wrong.append((endpoint, expected, status))
    assert wrong == []


def test_a_lab_account_cannot_sign_in_on_the_web(app, matrix, lab_account):
    client = app.test_client()
    response = client.post("/sign-in", data={"username": lab_account, "password": PASSWORD})
    assert response.status_code == 200 and "integration account" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # to sign in: no session was started


def test_a_lab_session_however_obtained_opens_no_page(app, matrix, lab_account):
    """Defence in depth behind the refused sign-in: a session of a lab account gets 403 on every page, never a 500."""
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.security import SESSION_KEY
    from cm_tracker.services.usecases import sessions

    client = app.test_client()
    with app.app_context():
        account = db.session.scalar(select(User).where(User.username == lab_account))
        raw, user_id = sessions.start_session(account, "127.0.0.1"), str(account.id)
    with client.session_transaction() as session:
        session[SESSION_KEY], session["_user_id"], session["_fresh"] = raw, user_id, True
    wrong = []
    for endpoint, r in sorted(PAGES.items()):
        if r.denials_only and LAB in r.allowed:
            continue
        status = client.open(r.path.format(**matrix), method=r.method).status_code
        if (status not in (200, 302)) if LAB in r.allowed else status != 403:
            wrong.append((endpoint, status))
    assert wrong == []
