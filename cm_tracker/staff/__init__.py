"""Counselor pages (mounted at /staff): the caseload and a patient's record, and the desk workflows (enrolment, desk
entry, visits and excuses, roll call, goal activities, corrections, the rewards desk), each in its own module adding
its routes to the one blueprint (staff.blueprint)."""

from cm_tracker.staff import (  # noqa: F401  (registers the routes)
    activities,
    closing,
    corrections,
    desk,
    enrolment,
    patient_edit,
    rewards,
    rollcall,
    routes,
    visits,
)
from cm_tracker.staff.blueprint import bp

__all__ = ["bp"]
