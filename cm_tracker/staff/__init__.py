"""Counselor pages (mounted at /staff): the caseload and a patient's record, and the desk workflows (enrolment, desk
entry, visits and excuses, roll call, goal activities, corrections, the rewards desk), each in its own module adding
its routes to the one blueprint (staff.blueprint). The lab pages (labs, lab_messages, lab_codes) add theirs to
staff.lab_blueprint (mounted at /staff/labs), which every staff role reaches: managers review lab results too."""

from cm_tracker.staff import (  # noqa: F401  (registers the routes)
    activities,
    closing,
    corrections,
    desk,
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

__all__ = ["bp", "labs_bp"]
