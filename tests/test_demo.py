"""The demo clinic (`flask demo load`, scripts/run-demo): a history stamped when each event happened, ending
yesterday at the clinic, patients in every kind of programme, and a run command that installs only the app.

The demo is loaded once for the module, at a pinned instant, and what the tests look at is read then (the tables
are emptied after each test)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
# Tuesday 9 March 2027, 21:00 at a Los Angeles clinic, when UTC is already Wednesday: the demo's day is the clinic's.
INSTANT = datetime(2027, 3, 10, 5, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Loaded:
    exit_code: int
    output: str
    again_exit_code: int
    again_output: str
    counts: dict[str, int]
    today: date
    award_delays: dict[str, int]  # the fidelity report's immediacy buckets, every programme together
    spend_months: list[date]  # months in which the prize-draw programme spent, from the budget report
    draw_months: set[tuple[int, int]]
    handover_months: set[tuple[int, int]]
    redemption_months: set[tuple[int, int]]
    programmes: list[tuple[str | None, int, set[str], set[str]]]  # preset, patients, target kinds, schedule kinds
    last_event_on: date
    due_today: int
    ledger_in_order: bool
    audit_in_order: bool
    open_activities: int
    portal_requests: int
    lab_waiting: list[str]
    part2: dict[str, int]  # consents, disclosures with a packet, revocation requests waiting


@pytest.fixture(scope="module")
def loaded(app: Flask) -> Loaded:
    with time_machine.travel(INSTANT, tick=False), app.app_context():
        runner = app.test_cli_runner()
        first = runner.invoke(args=["demo", "load"])
        again = runner.invoke(args=["demo", "load"])
        return Loaded(first.exit_code, first.output, again.exit_code, again.output, **_read())


def _read() -> dict[str, object]:
    from cm_tracker.extensions import db
    from cm_tracker.models import (
        ActivityStatus,
        AttendanceRecord,
        AuditEvent,
        Consent,
        ConsentRevocationRequest,
        DisclosurePacket,
        Draw,
        Enrollment,
        GoalActivity,
        LabResult,
        LedgerEntry,
        Patient,
        Program,
        Redemption,
        RedemptionStatus,
        ReviewStatus,
        Reward,
        ScheduledVisit,
        Specimen,
        User,
    )
    from cm_tracker.services.core.clinic import clinic_date, clinic_today
    from cm_tracker.services.queries.reports.budget import monthly_spend
    from cm_tracker.services.queries.reports.fidelity import award_delays
    from cm_tracker.services.queries.reports.outcomes import make_scope

    today = clinic_today()
    count = lambda model: int(db.session.scalar(select(func.count()).select_from(model)) or 0)  # noqa: E731
    programs = list(db.session.scalars(select(Program).order_by(Program.id)))
    delays: dict[str, int] = {}
    for program in programs:
        for delay in award_delays(make_scope(program.id, None, None, None, today)[1]):
            delays[delay.label] = delays.get(delay.label, 0) + delay.count
    prize = next(p for p in programs if p.preset == "petry_prize_draws")

    def months(column: object) -> set[tuple[int, int]]:
        days = {clinic_date(moment) for moment in db.session.scalars(select(column)) if moment is not None}
        return {(d.year, d.month) for d in days}

    patients = dict(db.session.execute(select(Enrollment.program_id, func.count()).group_by(Enrollment.program_id))
                    .tuples().all())
    events = [*db.session.scalars(select(Specimen.collected_at)), *db.session.scalars(
        select(AttendanceRecord.occurred_at)), *db.session.scalars(select(LedgerEntry.created_at))]
    ledger = list(db.session.scalars(select(LedgerEntry.created_at).order_by(LedgerEntry.id)))
    audit = list(db.session.scalars(select(AuditEvent.occurred_at).order_by(AuditEvent.id)))
    return {
        "counts": {m.__name__: count(m) for m in (Program, Patient, Enrollment, Specimen, LedgerEntry, Reward, User)},
        "today": today, "award_delays": delays,
        "spend_months": [m.month for m in monthly_spend(prize, today) if m.spent_cents > 0],
        "draw_months": months(Draw.drawn_at), "handover_months": months(Draw.handed_over_at),
        "redemption_months": months(Redemption.fulfilled_at),
        "programmes": [(p.preset, patients.get(p.id, 0), {str(t.kind) for t in p.targets},
                        {str(t.schedule_versions[-1].schedule["kind"]) for t in p.targets}) for p in programs],
        "last_event_on": max(clinic_date(moment) for moment in events),
        "due_today": count(select(ScheduledVisit.id).where(ScheduledVisit.due_on == today).subquery()),
        "ledger_in_order": ledger == sorted(ledger), "audit_in_order": audit == sorted(audit),
        "open_activities": count(select(GoalActivity.id).where(GoalActivity.status == ActivityStatus.PROPOSED)
                                 .subquery()),
        "portal_requests": count(select(Redemption.id).where(Redemption.status == RedemptionStatus.REQUESTED)
                                 .subquery()),
        "lab_waiting": sorted(r.reason for r in db.session.scalars(
            select(LabResult).where(LabResult.review_status == ReviewStatus.WAITING))),
        "part2": {"consents": count(select(Consent.id).subquery()),
                  "packets": count(select(DisclosurePacket.id).subquery()),
                  "requests": count(select(ConsentRevocationRequest.id).subquery())},
    }


def test_demo_load_builds_a_clinic_and_prints_the_sign_ins(loaded: Loaded) -> None:
    assert loaded.exit_code == 0, loaded.output
    for username in ("admin", "maria", "carlos", "dana", "acme-lab", "patient1", "patient2", "patient3"):
        assert f" {username} " in loaded.output
    assert loaded.counts["Program"] == 5 and loaded.counts["Patient"] == 22 and loaded.counts["Enrollment"] == 22
    assert loaded.counts["Specimen"] > 150 and loaded.counts["LedgerEntry"] > 300 and loaded.counts["Reward"] >= 10
    assert loaded.counts["User"] == 8


def test_demo_review_queue_has_the_labs_two_held_results_to_try(loaded: Loaded) -> None:
    waiting = loaded.lab_waiting
    assert len(waiting) == 2
    assert any("MRN-4417" in reason for reason in waiting) and any("3393-6" in reason for reason in waiting)


def test_demo_has_part2_records_for_the_consent_disclosure_and_privacy_pages(loaded: Loaded) -> None:
    # Two consents of the first portal patient (a doctor, a health-plan class) and a packet sent to the doctor; the
    # second portal patient's consent with their request to withdraw it, waiting for staff.
    assert loaded.part2 == {"consents": 3, "packets": 1, "requests": 1}


def test_demo_load_refuses_a_database_that_has_accounts(loaded: Loaded) -> None:
    assert loaded.again_exit_code == 1 and "empty database" in loaded.again_output


def test_demo_awards_are_stamped_when_their_result_was_typed_so_few_are_late(loaded: Loaded) -> None:
    total = sum(loaded.award_delays.values())
    late = total - loaded.award_delays["Within an hour"] - loaded.award_delays["Within a day"]
    assert total > 150
    assert late / total < 0.10
    assert loaded.award_delays["Within an hour"] / total > 0.90


def test_demo_prize_spend_and_hand_overs_spread_over_the_months_they_happened(loaded: Loaded) -> None:
    assert len(loaded.spend_months) >= 2
    assert len(loaded.draw_months) >= 2 and len(loaded.handover_months) >= 2
    assert len(loaded.redemption_months) >= 2


def test_demo_rows_get_their_ids_in_the_order_things_happened(loaded: Loaded) -> None:
    assert loaded.ledger_in_order and loaded.audit_in_order


def test_demo_has_patients_in_every_preset_and_every_kind_of_target_and_schedule(loaded: Loaded) -> None:
    from cm_tracker.engine.presets import PRESETS
    from cm_tracker.engine.rules import TargetKind

    with_patients = [p for p in loaded.programmes if p[1] >= 3]
    assert {preset for preset, *_ in with_patients} == set(PRESETS)
    assert set().union(*(kinds for *_, kinds, _ in with_patients)) == {str(k) for k in TargetKind}
    assert set().union(*(s for *_, s in with_patients)) == {"escalating", "prize_draws", "fixed"}


def test_demo_history_ends_yesterday_at_the_clinic(loaded: Loaded, app: Flask) -> None:
    assert loaded.today == INSTANT.astimezone(ZoneInfo(app.config["CLINIC_TIMEZONE"])).date()
    assert loaded.last_event_on == loaded.today - timedelta(days=1)
    assert loaded.due_today > 0


def test_demo_leaves_the_desk_something_to_try_today(loaded: Loaded) -> None:
    assert loaded.open_activities >= 1 and loaded.portal_requests >= 1


def test_the_tooling_clock_stamps_a_block_with_its_moment_and_then_runs_on_time() -> None:
    from cm_tracker.timeutil import clock_at, utcnow

    moment = datetime(2026, 5, 4, 16, 30, tzinfo=UTC)
    with time_machine.travel(INSTANT, tick=False):
        with clock_at(moment):
            assert utcnow() == moment
        assert utcnow() == INSTANT
    with pytest.raises(ValueError), clock_at(datetime(2026, 5, 4, 16, 30)):
        pass


def test_only_the_tooling_moves_the_clock() -> None:
    users = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "cm_tracker").rglob("*.py")
                   if "clock_at" in p.read_text(encoding="utf-8"))
    assert users == ["cm_tracker/timeutil.py", "cm_tracker/tooling/demo.py", "cm_tracker/tooling/demo_history.py"]


def _fake_venv(tmp_path: Path) -> tuple[Path, Path]:
    """A virtual environment whose pip, pybabel and flask only note how they were called."""
    venv, log = tmp_path / "venv", tmp_path / "calls.log"
    (venv / "bin").mkdir(parents=True)
    for name in ("python", "pip", "pybabel", "flask"):
        tool = venv / "bin" / name
        tool.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n')
        tool.chmod(0o755)
    return venv, log


def _run(command: list[str], venv: Path, tmp_path: Path) -> list[str]:
    env = {**os.environ, "CM_VENV": str(venv), "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    env.pop("SETUP_PACKAGES", None)
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
    return (tmp_path / "calls.log").read_text().splitlines()


def test_run_demo_installs_only_the_apps_packages_and_runs_the_demo(tmp_path: Path) -> None:
    venv, _ = _fake_venv(tmp_path)
    calls = _run([str(ROOT / "scripts" / "run-demo")], venv, tmp_path)
    installs = [c for c in calls if c.startswith("pip ")]
    assert len(installs) == 1 and installs[0].endswith(f"-r {ROOT}/requirements.txt")
    assert [c for c in calls if c.startswith("flask ")] == [
        "flask db upgrade", "flask demo load", "flask run --host 127.0.0.1 --port 5000"]


def test_the_test_command_setup_installs_the_test_tools_and_then_the_demo_needs_nothing_more(tmp_path: Path) -> None:
    venv, _ = _fake_venv(tmp_path)
    # scripts/test sources setup.sh as it is, without choosing a package set.
    assert 'source "$(dirname "$0")/setup.sh"' in (ROOT / "scripts" / "test").read_text()
    calls = _run(["bash", "-c", f'source "{ROOT}/scripts/setup.sh"'], venv, tmp_path)
    assert [c for c in calls if c.startswith("pip ")] == [
        f"pip install --quiet --disable-pip-version-check -r {ROOT}/requirements-dev.txt"]
    calls = _run([str(ROOT / "scripts" / "run-demo")], venv, tmp_path)
    assert len([c for c in calls if c.startswith("pip ")]) == 1
