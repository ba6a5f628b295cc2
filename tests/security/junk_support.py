"""What the junk sweep (test_junk_input.py) sends besides its junk: the forms a page shows, with the values they come
filled with, and a body each API write would accept, so that one bad field at a time reaches as far as it can.

A bad value in an otherwise empty form stops at the first check; the failures worth finding (a date that overflows
when moved to UTC, a null that the service takes for a value) lie behind every other check, so each junk kind is sent
inside a body that is valid apart from it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

from helpers import PASSWORD

HUGE_ID = "99999999999"  # beyond PostgreSQL's INTEGER and SQLite's 32-bit ids, within 64 bits
# The ends of Python's calendar: moving either across zones, or a day further, overflows.
EDGE_DATES = ("0001-01-01", "9999-12-31")
EDGE_MOMENTS = ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-14:00")
EDGE_TIMES = ("00:00", "23:59")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MOMENT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T")


class _Forms(HTMLParser):
    """Every <form> of a page: method, action and its fields with the values it shows (the selected option, the
    checked radio and boxes)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"method": a.get("method", "get").lower(), "action": a.get("action", ""),
                               "fields": {}, "types": {}})
            return
        if tag == "option" and self.forms and self._select:
            shown = self.forms[-1]["fields"]
            if "selected" in a or self._select not in shown:
                shown[self._select] = a.get("value", "")
            return
        if not self.forms or not a.get("name") or a["name"] == "csrf_token":
            return
        fields, types, name = self.forms[-1]["fields"], self.forms[-1]["types"], a["name"]
        if tag == "input":
            kind = a.get("type", "text")
            types[name] = kind
            if kind == "radio" and ("checked" in a or name not in fields):
                fields[name] = a.get("value", "y")
            elif kind == "checkbox" and "checked" in a:
                fields[name] = [*fields.get(name, []), a.get("value", "y")]
            elif kind not in ("submit", "button"):
                fields[name] = a.get("value", "")
        elif tag == "textarea":
            types[name], fields[name], self._textarea = "textarea", "", name
        elif tag == "select":
            types[name], self._select = "select", name

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1]["fields"][self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def page_forms(html: str, path: str) -> list[dict[str, Any]]:
    """The forms of a page that send back to the page itself (a POST, or a GET filter), as it shows them."""
    parser = _Forms()
    parser.feed(html)
    own = path.split("?")[0]
    return [f for f in parser.forms if f["action"].split("?")[0] in ("", own)]


def with_edges(form: dict[str, Any], end: int) -> dict[str, str]:
    """The form as shown, with every date, time and date-time field at one end of the calendar."""
    values = dict(form["fields"])
    for name, kind in form["types"].items():
        if kind == "date":
            values[name] = EDGE_DATES[end]
        elif kind == "time":
            values[name] = EDGE_TIMES[end]
        elif kind == "datetime-local":
            values[name] = EDGE_MOMENTS[end][:16]
    return values


def with_kinds(form: dict[str, Any], kinds: tuple[str, ...], value: str) -> dict[str, str] | None:
    """The form as shown, with every field of the input types `kinds` set to `value`; None when it has none."""
    names = [name for name, kind in form["types"].items() if kind in kinds]
    return {**form["fields"], **{name: value for name in names}} if names else None


def form_variants(form: dict[str, Any], junk: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """The form as shown with one kind of field junk at a time: the ends of the calendar in its dates and times, and
    each of `junk` in its hidden fields (ids, versions), its numbers and its text."""
    variants: dict[str, dict[str, str] | None] = {"early": with_edges(form, 0), "late": with_edges(form, 1)}
    for kinds in (("hidden",), ("number",), ("text", "search", "textarea")):
        for i, value in enumerate(junk):
            variants[f"{kinds[0]} {i}"] = with_kinds(form, kinds, value)
    return {kind: values for kind, values in variants.items() if values is not None}


# The instant the API sweep runs at (test_junk_input pins its clock here): a Friday evening at the clinic, within the
# personas' enrolment (from Mon 2 Nov 2026), so that every body below is valid apart from its junk whatever the date.
SWEEP_AT = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


def _now(days: int = 0, minutes: int = 0) -> str:
    return (SWEEP_AT + timedelta(days=days, minutes=minutes)).isoformat()


def _day(days: int = 0) -> str:
    return (SWEEP_AT + timedelta(days=days)).date().isoformat()


RESULTS = {"cocaine": "negative", "methamphetamine": "negative"}
ESCALATING = {"kind": "escalating", "start": 10, "step": 5, "bonus_every": 3, "bonus": 40}


def api_bodies(m: dict[str, int]) -> dict[str, dict[str, Any]]:
    """A body each API write of the matrix world would accept (or refuse for a rule, past every shape check)."""
    return {
        "api.create_token": {"username": "cora", "password": PASSWORD},
        "api.create_user": {"username": "nell", "password": "a long enough secret", "role": "counselor",
                            "display_name": "Nell New"},
        "api.create_program": {"name": "Junk vouchers", "point_value_cents": 25, "weeks": 12,
                               "visit_days": ["mon", "thu"], "cap_cents": 99750, "cap_window": "episode",
                               "max_award_cents": 5000, "dilute_policy": "neutral", "effective_on": _day(),
                               "description": "d", "source": "s", "caveat": "c", "funding_source": "f",
                               "budget_cents": 100000, "near_cap_percent": 80,
                               "targets": [{"key": "cocaine", "kind": "abstinence", "analytes": ["cocaine"],
                                            "schedule": ESCALATING}]},
        "api.update_program": {"version": 1, "name": "Stimulant vouchers 2", "description": "d", "weeks": 12},
        "api.add_schedule_version": {"schedule": ESCALATING, "effective_on": _day(7), "based_on_version": 1},
        "api.create_patient": {"display_name": "Nora New", "record_number": "MRN-900", "program_id": m["program"],
                               "counselor_id": m["user"], "start_date": _day()},
        # Half an hour before the matrix world's own specimen, which it records at the instant the test runs.
        "api.record_specimen": {"collected_at": _now(minutes=-30), "status": "final", "results": RESULTS,
                                "validity": "valid", "temperature_ok": True, "observed": False, "method": "poc",
                                "note": "n", "confirm_untested": False},
        "api.correct_specimen": {"version": 1, "reason": "A typo", "status": "final", "results": RESULTS,
                                 "collected_at": _now(-1), "validity": "valid", "temperature_ok": True,
                                 "observed": True, "method": "poc", "note": "n", "confirm_untested": False},
        "api.record_attendance": {"occurred_at": _now(), "target": "groups", "status": "attended", "note": "n"},
        "api.draw": {"count": 1},
        "api.create_reward": {"name": "Bus pass", "cost_points": 10, "value_cents": 250, "stock": 5,
                              "description": "d", "low_stock_threshold": 1, "program_id": m["program"]},
        "api.create_redemption": {"reward_id": m["reward"], "quantity": 1},
        "api.post_adjustment": {"points": 5, "draws": 0, "reason": "Goodwill"},
        "api.hand_over_prize": {"reward_id": m["reward"], "confirmer_username": "ada",
                                "confirmer_password": PASSWORD},
        "api.update_patient": {"version": 1, "display_name": "Pat P", "counselor_id": m["user"]},
        "api.end_enrollment": {"status": "completed", "on": _day(), "reason": "Done"},
        "api.create_excuse": {"on": _day(1), "reason": "Court date"},
        "api.change_visit_days": {"visit_days": ["mon", "thu"], "from": _day(1), "version": 1},
        "api.correct_attendance": {"version": 1, "reason": "Mistyped", "status": "excused", "occurred_at": _now(-2),
                                   "note": "n"},
        "api.create_activity": {"target": "goals", "week_of": _day(), "description": "Interview",
                                "verification": "Letter"},
        "api.activity_evidence": {"version": 1, "evidence_note": "Seen"},
        "api.verify_activity": {"version": 1, "occurred_at": _now(), "note": "n"},
        "api.reject_activity": {"version": 1, "reason": "No letter"},
        "api.create_consent": {"recipient": "Dr Ana Ruiz", "recipient_kind": "named", "purpose": "Care",
                               "information": "Results", "signed_on": _day(-1), "expires_on": _day(300),
                               "expiry_event": "Discharge", "discloser": "The clinic"},
        "api.revoke_consent": {"revoked_on": _day(), "note": "Asked in person"},
        "api.request_my_revocation": {"note": "Please stop sharing"},
        # Refused for the rule (a wrong code is 422, no pending set-up 409), past every shape check.
        "api.confirm_mfa": {"otp": "123456"},
        # Consent 1 is not the matrix world's: refused for the rule (409 no_consent), past every shape check; the
        # sweep's junk goes into "records" whole (tests/part2/test_disclosure_packets_api.py puts it inside).
        "api.create_disclosure": {"consent_id": 1, "recipient": "Dr Ana Ruiz", "description": "Results",
                                  "disclosed_on": _day(), "records": {"from": _day(-30), "to": _day(),
                                                                      "include": ["results", "attendance"],
                                                                      "language": "es"}},
        # A FHIR Bundle of one Observation of Pat's (MRN-001): the sweep's junk goes into its top-level fields.
        "api.receive_lab_results": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
            "resourceType": "Observation", "status": "final", "identifier": [{"value": "ACC-JUNK"}],
            "subject": {"identifier": {"value": "MRN-001"}}, "effectiveDateTime": _now(minutes=-45),
            "code": {"coding": [{"system": "http://loinc.org", "code": "19554-5"}]}, "valueString": "negative"}}]},
    }


def request_schemas(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(method, path template) -> the properties of its request body in the OpenAPI document."""
    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    found = {}
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                found[(method.upper(), path)] = {k: resolve(v) for k, v in
                                                 resolve(body["schema"]).get("properties", {}).items()}
    return found


def date_fields(base: dict[str, Any], schema: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The date and the date-time fields of a body: by the document's format, or by the value they hold."""
    names = set(base) | set(schema)

    def kind(name: str) -> str | None:
        value, fmt = base.get(name), schema.get(name, {}).get("format")
        if fmt in ("date", "date-time"):
            return fmt
        if isinstance(value, str) and DATE_RE.match(value):
            return "date"
        return "date-time" if isinstance(value, str) and MOMENT_RE.match(value) else None

    return sorted(n for n in names if kind(n) == "date"), sorted(n for n in names if kind(n) == "date-time")
