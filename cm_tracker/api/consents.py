"""42 CFR Part 2 consents and disclosures (docs/api.md "Consents and disclosures", docs/part2.md): staff record a
patient's consents, their revocation and each disclosure made under one; the accounting of disclosures lists the
past three years by default. A patient reads their own through /me. Nothing here deletes: the rows are kept."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, jsonify, request, url_for

from cm_tracker.api.access import allow, current_api_user
from cm_tracker.api.blueprint import ID, bp
from cm_tracker.api.consents_docs import describe
from cm_tracker.api.errors import ApiError
from cm_tracker.api.schemas import Fields, json_object, parse_date
from cm_tracker.models import DisclosurePacket, Patient
from cm_tracker.permissions import can_manage_consents, get_consent_for, get_patient_for, is_patient
from cm_tracker.services.queries.consents import ConsentView, DisclosureView
from cm_tracker.services.queries.disclosure_records import SECTIONS
from cm_tracker.services.usecases import consents, revocation_requests
from cm_tracker.services.usecases.disclosure_packets import PacketChoice
from cm_tracker.validation import CALENDAR_MESSAGE, in_calendar

CONSENT_FIELDS = ("recipient", "recipient_kind", "purpose", "information", "signed_on", "expires_on",
                  "expiry_event", "discloser")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def consent_to_dict(view: ConsentView) -> dict[str, Any]:
    c, revocation = view.consent, view.revocation
    return {"id": c.id, "patient_id": c.patient_id, "status": str(view.status), "discloser": c.discloser,
            "information": c.information, "recipient_kind": str(c.recipient_kind), "recipient": c.recipient,
            "purpose": c.purpose, "signed_on": c.signed_on.isoformat(), "expires_on": _day(c.expires_on),
            "expiry_event": c.expiry_event, "recorded_by": view.recorded_by, "created_at": c.created_at.isoformat(),
            "revoked_on": _day(revocation.revoked_on) if revocation else None, "revoked_by": view.revoked_by,
            "revocation_note": revocation.note if revocation else None,
            "revocation_requested_on": _day(view.revocation_request.requested_on) if view.revocation_request else None}


def disclosure_to_dict(view: DisclosureView) -> dict[str, Any]:
    d = view.disclosure
    return {"id": d.id, "disclosed_on": d.disclosed_on.isoformat(), "recipient": d.recipient,
            "description": d.description, "consent_id": d.consent_id, "recorded_by": view.recorded_by,
            "purpose": view.purpose, "recipient_class": view.recipient_class,
            "packet": _packet_to_dict(d.patient_id, view.packet) if view.packet else None}


def _packet_to_dict(patient_id: int, packet: DisclosurePacket) -> dict[str, Any]:
    """What a disclosure's packet carried, and where staff print it again (the page is audited as an export)."""
    return {"from": packet.period_start.isoformat(), "to": packet.period_end.isoformat(),
            "include": packet.sections.split(","), "language": packet.language, "digest": packet.content_digest,
            "url": url_for("part2.packet", patient_id=patient_id, disclosure_id=packet.disclosure_id)}


def _consent_input() -> consents.ConsentInput:
    fields = Fields(json_object(), CONSENT_FIELDS)
    values = consents.ConsentInput(
        information=fields.string("information", consents.MAX_TEXT) or "",
        recipient=fields.string("recipient", consents.MAX_NAME) or "",
        recipient_kind=fields.string("recipient_kind", 24, required=False) or "named",
        purpose=fields.string("purpose", consents.MAX_PURPOSE) or "",
        signed_on=fields.date("signed_on") or date.min,
        expires_on=fields.date("expires_on", required=False),
        expiry_event=fields.string("expiry_event", consents.MAX_EVENT, required=False) or "",
        discloser=fields.string("discloser", consents.MAX_NAME, required=False) or "")
    fields.check("The consent was not recorded.")
    return values


def _disclosure_input() -> tuple[consents.DisclosureInput, PacketChoice | None]:
    """The disclosure and, with "records", the packet cm-tracker printed for it; without a packet the description
    is required (records sent outside cm-tracker: it says what), with one a blank description is the packet's."""
    fields = Fields(json_object(), ("consent_id", "recipient", "description", "disclosed_on", "records"))
    values = consents.DisclosureInput(
        consent_id=fields.integer("consent_id") or 0, recipient=fields.string("recipient", consents.MAX_NAME) or "",
        description=fields.string("description", consents.MAX_TEXT, required=False) or "",
        disclosed_on=fields.date("disclosed_on") or date.min)
    packet = _records(fields)
    fields.check("The disclosure was not recorded.")
    return values, packet


def _records(fields: Fields) -> PacketChoice | None:
    """"records": {"from", "to", "include": [...], "language"?}, its errors named "records.<field>"."""
    raw = fields.data.get("records")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        fields.errors["records"] = "Must be an object: from, to, include and language."
        return None
    inner = Fields(raw, ("from", "to", "include", "language"))
    start, end = inner.date("from"), inner.date("to")
    language = inner.string("language", 8, required=False) or "en"
    include = raw.get("include")
    if not isinstance(include, list) or not all(isinstance(name, str) and len(name) <= 40 for name in include) \
            or len(include) > len(SECTIONS):
        inner.errors["include"] = f"Must be a list of the kinds of record: {', '.join(SECTIONS)}."
    fields.errors.update({f"records.{name}": message for name, message in inner.errors.items()})
    if inner.errors or start is None or end is None:
        return None
    return PacketChoice(start, end, tuple(include), language)  # type: ignore[arg-type]


def _window() -> tuple[date | None, date | None]:
    """`from` and `to` of the query (YYYY-MM-DD, both optional), or 422 naming the one that cannot be read. Which
    windows may be asked for (not before 1990, not after today, `from` not after `to`) is the service's rule
    (queries.consents.accounting_window), shared with the staff pages."""
    fields: dict[str, str] = {}
    found: dict[str, date | None] = {}
    for name in ("from", "to"):
        raw = request.args.get(name)  # given empty (`?to=`) is a malformed date, as the document says
        day = parse_date(raw) if raw is not None else None
        if raw is not None and day is None:
            fields[name] = "Must be a date, YYYY-MM-DD."
        elif day is not None and not in_calendar(day):
            fields[name], day = CALENDAR_MESSAGE, None
        found[name] = day
    if fields:
        raise ApiError(422, "validation_failed", "The accounting could not be read.", fields=fields)
    return found["from"], found["to"]


def _consents(patient: Patient, via: str) -> Response:
    found = consents.read_consents(patient, user=current_api_user(), via=via)
    return jsonify({"consents": [consent_to_dict(v) for v in found]})


def _disclosures(patient: Patient, via: str) -> Response:
    start, end = _window()
    window, found = consents.read_disclosures(patient, user=current_api_user(), via=via, start=start, end=end)
    return jsonify({"from": window.start.isoformat(), "to": window.end.isoformat(),
                    "disclosures": [disclosure_to_dict(v) for v in found]})


@bp.post(f"/patients/<{ID}:patient_id>/consents")
@allow(can_manage_consents)
def create_consent(patient_id: int) -> tuple[Response, int]:
    patient = get_patient_for(current_api_user(), patient_id)
    view = consents.record_consent(patient, _consent_input(), actor=current_api_user())
    return jsonify(consent_to_dict(view)), 201


@bp.get(f"/patients/<{ID}:patient_id>/consents")
@allow(can_manage_consents)
def list_consents(patient_id: int) -> Response:
    return _consents(get_patient_for(current_api_user(), patient_id), "api")


@bp.post(f"/consents/<{ID}:consent_id>/revocation")
@allow(can_manage_consents)
def revoke_consent(consent_id: int) -> Response:
    _, consent = get_consent_for(current_api_user(), consent_id)
    fields = Fields(json_object(), ("revoked_on", "note"))
    revoked_on = fields.date("revoked_on")
    note = fields.string("note", consents.MAX_NOTE, required=False) or ""
    fields.check("The revocation was not recorded.")
    view = consents.revoke_consent(consent, revoked_on or date.min, note=note, actor=current_api_user())
    return jsonify(consent_to_dict(view))


@bp.post(f"/patients/<{ID}:patient_id>/disclosures")
@allow(can_manage_consents)
def create_disclosure(patient_id: int) -> tuple[Response, int]:
    patient = get_patient_for(current_api_user(), patient_id)
    values, packet = _disclosure_input()
    view = consents.record_disclosure(patient, values, actor=current_api_user(), packet=packet)
    return jsonify(disclosure_to_dict(view)), 201


@bp.get(f"/patients/<{ID}:patient_id>/disclosures")
@allow(can_manage_consents)
def list_disclosures(patient_id: int) -> Response:
    return _disclosures(get_patient_for(current_api_user(), patient_id), "api")


@bp.get("/me/consents")
@allow(is_patient)
def my_consents() -> Response:
    return _consents(current_api_user().patient, "api/me")


@bp.get("/me/disclosures")
@allow(is_patient)
def my_disclosures() -> Response:
    return _disclosures(current_api_user().patient, "api/me")


@bp.post(f"/me/consents/<{ID}:consent_id>/revocation-request")
@allow(is_patient)
def request_my_revocation(consent_id: int) -> tuple[Response, int]:
    """Patients ask to revoke their own consent; staff record the revocation (POST /consents/{id}/revocation)."""
    fields = Fields(json_object(), ("note",))
    note = fields.string("note", revocation_requests.MAX_NOTE, required=False) or ""
    fields.check("The request was not sent.")
    user = current_api_user()
    view = revocation_requests.request_revocation(user.patient, consent_id, note, actor=user)
    return jsonify(consent_to_dict(view)), 201


describe()
