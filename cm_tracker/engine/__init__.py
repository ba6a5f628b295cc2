"""The contingency-management rules of cm-tracker: pure Python, data in, data out.

No Flask, no database, no clock (dates are parameters), no global random source (one is passed in).
The rules and their sources are in docs/rules.md; docs/schedules.md explains them for clinicians.
"""

from cm_tracker.engine.bowl import draw_slip, draw_slips, expected_value_cents
from cm_tracker.engine.caps import cap_prize_tier, cap_used_cents
from cm_tracker.engine.evaluate import NextPreview, evaluate_target, evaluate_versions, preview_next
from cm_tracker.engine.events import Award, TargetAward, TargetEvent
from cm_tracker.engine.maximum import MaxEarnable, max_earnable
from cm_tracker.engine.outcomes import (
    ActivityStatus,
    AttendanceStatus,
    Classification,
    DilutePolicy,
    Outcome,
    SpecimenFacts,
    SpecimenStatus,
    Validity,
    classify_activity,
    classify_attendance,
    classify_specimen,
    is_bonus_negative,
    untested_analytes,
)
from cm_tracker.engine.presets import PRESETS, Preset
from cm_tracker.engine.program import CapSpend, ProgramEvaluation, evaluate_program, preview_program
from cm_tracker.engine.rules import CapWindow, ProgramRules, TargetKind, TargetRules, parse_program_rules
from cm_tracker.engine.schedules import (
    BowlTier,
    EscalatePer,
    EscalatingSchedule,
    FixedSchedule,
    PrizeDrawSchedule,
    Schedule,
    ScheduleError,
    ScheduleKind,
    ScheduleVersions,
    parse_schedule,
    schedule_in_force,
    schedule_to_dict,
)

__all__ = [
    "PRESETS", "ActivityStatus", "AttendanceStatus", "Award", "BowlTier", "CapSpend", "CapWindow",
    "Classification", "DilutePolicy", "EscalatePer", "EscalatingSchedule", "FixedSchedule", "MaxEarnable",
    "NextPreview", "Outcome", "Preset", "PrizeDrawSchedule", "ProgramEvaluation", "ProgramRules", "Schedule",
    "ScheduleError", "ScheduleKind", "ScheduleVersions", "SpecimenFacts", "SpecimenStatus", "TargetAward",
    "TargetEvent", "TargetKind", "TargetRules", "Validity", "cap_prize_tier", "cap_used_cents", "classify_activity",
    "classify_attendance", "classify_specimen", "draw_slip", "draw_slips", "evaluate_program",
    "evaluate_target", "evaluate_versions", "expected_value_cents", "is_bonus_negative", "max_earnable",
    "parse_program_rules", "parse_schedule", "preview_next", "preview_program", "schedule_in_force",
    "schedule_to_dict", "untested_analytes",
]  # fmt: skip
