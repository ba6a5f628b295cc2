"""The lab messages as received (/staff/labs/messages, admins and managers): every arrival, and one message's body
as it was stored with what became of each accession in it. Viewing a body is a read of patient data: audited."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from cm_tracker.permissions import can_read_lab_messages
from cm_tracker.services.queries import lab_messages as lab_messages_reads
from cm_tracker.services.usecases import lab_views
from cm_tracker.staff.lab_blueprint import bp, require


@bp.get("/messages")
def messages() -> str:
    require(can_read_lab_messages(current_user))
    listing = lab_messages_reads.messages(request.args.get("page", 1, type=int) or 1)
    return render_template("staff/labs/messages.html", listing=listing)


@bp.get("/messages/<int:message_id>")
def message(message_id: int) -> str:
    require(can_read_lab_messages(current_user))
    return render_template("staff/labs/message.html", detail=lab_views.message(current_user, message_id))
