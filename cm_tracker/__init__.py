"""cm-tracker: a contingency-management rewards tracker. `create_app` reads as the table of contents."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from config import Config, check_production_safety, config_from_environment


def create_app(config_class: type[Config] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(Path(__file__).resolve().parent.parent / "instance"),
        instance_relative_config=True,
        template_folder=str(Path(__file__).resolve().parent.parent / "templates"),
    )
    app.config.from_object(config_class or config_from_environment())
    check_production_safety(app.config)

    from cm_tracker import database, input_guard, security

    database.configure(app)
    security.configure(app)
    _register_extensions(app)
    database.attach(app)
    input_guard.register(app)  # before the blueprints: their <int:...> ids take its converter
    _register_blueprints(app)

    from cm_tracker import commands, errors, i18n, request_context, template_helpers

    request_context.register(app)
    errors.register(app)
    template_helpers.register(app)
    i18n.register(app)
    commands.register(app)
    return app


def _register_extensions(app: Flask) -> None:
    from cm_tracker.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from cm_tracker.admin.routes import bp as admin_bp
    from cm_tracker.api import bp as api_bp
    from cm_tracker.auth.routes import bp as auth_bp
    from cm_tracker.auth.second_factor import bp as mfa_bp
    from cm_tracker.catalog.routes import bp as catalog_bp
    from cm_tracker.main.routes import bp as main_bp
    from cm_tracker.patient.routes import bp as patient_bp
    from cm_tracker.programs.routes import bp as programs_bp
    from cm_tracker.reports.routes import bp as reports_bp
    from cm_tracker.staff import bp as staff_bp
    from cm_tracker.staff import labs_bp, part2_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(mfa_bp, url_prefix="/account/security")
    app.register_blueprint(staff_bp, url_prefix="/staff")
    app.register_blueprint(labs_bp, url_prefix="/staff/labs")
    app.register_blueprint(part2_bp, url_prefix="/staff")
    app.register_blueprint(patient_bp, url_prefix="/portal")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(programs_bp, url_prefix="/programmes")
    app.register_blueprint(catalog_bp, url_prefix="/catalog")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
