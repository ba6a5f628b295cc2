"""Counselor pages (mounted at /staff): the caseload and a patient's record, and the desk workflows (enrolment, desk
entry, visits and excuses, roll call, goal activities, corrections, the rewards desk), each in its own module adding
its routes to the one blueprint (staff.blueprint). The lab pages (labs, lab_messages, lab_codes) add theirs to
staff.lab_blueprint (mounted at /staff/labs), which every staff role reaches: managers review lab results too. The
Part 2 pages (consent_pages, disclosure_pages, accounting_pages) add theirs to staff.part2_blueprint (mounted at
/staff too, under /staff/patients/<id>/...), which every staff role reaches for the patients within their reach."""

from cm_tracker.staff import (  # noqa: F401  (registers the routes)
    accounting_pages,
    activities,
    closing,
    consent_pages,
    corrections,
    desk,
    disclosure_pages,
    enrolment,
    lab_codes,
    lab_messages,
    labs,
    patient_edit,
    rewards,
    rollcall,
    routes,
    visits,
)
from cm_tracker.staff.blueprint import bp
from cm_tracker.staff.lab_blueprint import bp as labs_bp
from cm_tracker.staff.part2_blueprint import bp as part2_bp

__all__ = ["bp", "labs_bp", "part2_bp"]
