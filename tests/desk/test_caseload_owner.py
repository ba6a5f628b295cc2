"""One caseload (core.caseload): each role sees exactly its patients on the caseload page, in the API's patient list
and on the roll call, and the pages name the caseload with permissions.caseload_wording."""

from __future__ import annotations

import re

import pytest

from desk.conftest import enrol

from helpers import api_token, sign_in

EVERYONE = {"Pat Patient", "Olive Other", "Dana Desk", "Owen Other"}
SEEN = {  # who sees whom: the caseload page and the roll call (None: the page is not theirs), the API list
    "cora": ({"Pat Patient", "Dana Desk"}, {"Dana Desk"}, {"Pat Patient", "Dana Desk"}),
    "ada": (EVERYONE, {"Dana Desk", "Owen Other"}, EVERYONE),
    "max": (None, None, EVERYONE),
}


@pytest.fixture
def owen(app, desk, personas) -> int:
    """A second patient of the desk programme (it has group sessions), on the other counselor's caseload."""
    return enrol(app, desk.program, personas.other_counselor, name="Owen Other", record="MRN-O1", start=desk.start)[0]


def _names(html: str) -> set[str]:
    return {name for name in EVERYONE if name in html}


@pytest.mark.parametrize("username", sorted(SEEN))
def test_each_role_sees_exactly_its_caseload_everywhere(client, desk, owen, username):
    page, roll, listed = SEEN[username]
    api = client.get("/api/v1/patients?per_page=50", headers=api_token(client, username)).get_json()
    assert {p["display_name"] for p in api["patients"]} == listed
    sign_in(client, username)
    caseload = client.get("/staff/")
    rollcall = client.get(f"/staff/rollcall?session={desk.program}:groups")
    if page is None:
        assert (caseload.status_code, rollcall.status_code) == (403, 403)
        return
    assert _names(caseload.get_data(as_text=True)) == page
    assert _names(rollcall.get_data(as_text=True)) == roll


@pytest.mark.parametrize(("username", "every_patient"), [("cora", False), ("ada", True)])
def test_the_caseload_is_named_by_one_wording(app, client, desk, personas, username, every_patient):
    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.permissions import EVERY_PATIENT, OWN_CASELOAD, caseload_wording

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        wording = caseload_wording(user)
    assert wording == (EVERY_PATIENT if every_patient else OWN_CASELOAD)
    sign_in(client, username)
    caseload = client.get("/staff/").get_data(as_text=True)
    record = client.get(f"/staff/patients/{desk.patient}").get_data(as_text=True)
    assert re.search(rf"<h1>\s*{wording.title}\s*</h1>", caseload)
    assert wording.lead in caseload
    assert re.search(rf'class="breadcrumb"><a [^>]*>{wording.title}</a>', record)
