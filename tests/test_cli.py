"""Command-line tools: creating accounts from standard input and loading the demo clinic."""

from __future__ import annotations

from sqlalchemy import func, select

from helpers import PASSWORD


def test_users_create_reads_the_password_from_standard_input(app, ctx):
    from cm_tracker.extensions import db
    from cm_tracker.models import Role, User
    from cm_tracker.services.core.passwords import verify_password

    result = app.test_cli_runner().invoke(args=["users", "create", "Nadia", "--role", "manager"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "nadia"))
    assert user.role == Role.MANAGER and verify_password(user.password_hash, PASSWORD)


def test_users_create_explains_a_refused_password(app, ctx):
    from cm_tracker.extensions import db
    from cm_tracker.models import User

    result = app.test_cli_runner().invoke(args=["users", "create", "nadia", "--role", "admin"], input="short\n")
    assert result.exit_code == 1
    assert "password: Use at least 8 characters." in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_demo_load_builds_a_clinic_and_prints_the_sign_ins(app, ctx):
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, LedgerEntry, Patient, Program, Reward, Specimen, User
    from cm_tracker.services.usecases import accounts

    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    for username in ("admin", "maria", "carlos", "dana", "patient1"):
        assert f" {username} " in result.output
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    assert count(Program) == 2 and count(Patient) == 20 and count(Enrollment) == 20
    assert count(Specimen) > 150 and count(LedgerEntry) > 150 and count(Reward) >= 6
    assert {u.role for u in db.session.scalars(select(User))} == {"admin", "manager", "counselor", "patient"}
    assert accounts.authenticate("carlos", "demo-counselor-pass") is not None
    again = app.test_cli_runner().invoke(args=["demo", "load"])
    assert again.exit_code == 1 and "empty database" in again.output
