"""Part 2 pages (see staff.part2_blueprint); routes added by this module."""

from cm_tracker.staff.part2_blueprint import bp  # noqa: F401
