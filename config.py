"""Configuration read from the environment.

Each class is a complete configuration; `create_app` takes one. Values come from environment variables so that the
same code runs on a laptop (SQLite, no Redis) and in production (PostgreSQL, Redis, several gunicorn workers).
"""

from __future__ import annotations

import os
from datetime import timedelta

DEV_SECRET_KEY = "dev-only-not-secret"
# The development key of the audit trail's and the ledger's chain (docs/security.md "Tamper-evident chain").
DEV_AUDIT_CHAIN_KEY = "dev-only-audit-chain-key-not-secret"


class ConfigError(RuntimeError):
    """The environment holds a value the application must not start with."""


def _int_env(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}")
    return value


def _bool_env(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


# The staff roles a second factor may be required of; patients and lab accounts sign in with a password only.
STAFF_ROLE_NAMES = ("admin", "manager", "counselor")


def _staff_roles_env(name: str, default: str) -> frozenset[str]:
    raw = os.environ.get(name)
    names = {part.strip().lower() for part in (default if raw is None else raw).split(",") if part.strip()}
    unknown = sorted(names - set(STAFF_ROLE_NAMES))
    if unknown:
        raise ConfigError(f"{name} may name only {', '.join(STAFF_ROLE_NAMES)}, not {', '.join(unknown)}")
    return frozenset(names)


class Config:
    """Defaults for development; production and tests override what differs."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    # The HMAC key of the tamper-evident chain over the audit trail and the ledger: kept off the database host and
    # its backups, since whoever holds it and the database can rewrite both undetected.
    AUDIT_CHAIN_KEY = os.environ.get("AUDIT_CHAIN_KEY") or DEV_AUDIT_CHAIN_KEY
    # None means "a SQLite file in the instance folder"; create_app fills it in.
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None
    # The role that owns the tables, for `flask db upgrade` and `flask db grant-runtime`; the app itself connects as
    # DATABASE_URL, a role that cannot disable the append-only triggers (README, "Production deployment").
    # Unset: the migrations use DATABASE_URL too.
    MIGRATION_DATABASE_URL = os.environ.get("MIGRATION_DATABASE_URL") or None
    REDIS_URL = os.environ.get("REDIS_URL") or None
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # PostgreSQL: a pooled connection older than this is replaced at checkout, before a firewall or the server drops
    # it while idle (cm_tracker/database.py; a dead one still costs only a retry of the request's first read).
    DATABASE_POOL_RECYCLE_SECONDS = _int_env("DATABASE_POOL_RECYCLE_SECONDS", 300, 1)

    # Sessions (docs/security.md): idle 15 minutes, absolute 12 hours by default.
    SESSION_IDLE_MINUTES = _int_env("SESSION_IDLE_MINUTES", 15, 1)
    SESSION_ABSOLUTE_HOURS = _int_env("SESSION_ABSOLUTE_HOURS", 12, 1)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=SESSION_ABSOLUTE_HOURS)
    SESSION_COOKIE_NAME = "cm_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool_env("SESSION_COOKIE_SECURE", False)
    # Strict-Transport-Security on HTTPS answers. Its own setting, on in production whatever SESSION_COOKIE_SECURE
    # says: relaxing the cookies (a staging host) must not silently stop telling browsers to insist on HTTPS.
    HSTS_ENABLED = _bool_env("HSTS_ENABLED", False)
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)

    API_TOKEN_HOURS = _int_env("API_TOKEN_HOURS", 12, 1)
    MAX_CONTENT_LENGTH = _int_env("MAX_CONTENT_LENGTH", 1024 * 1024, 1024)
    # POST /api/v1/lab-results alone: a lab's batch (a day's CSV, a large Bundle) runs to megabytes.
    LAB_MAX_BODY_BYTES = _int_env("LAB_MAX_BODY_BYTES", 20 * 1024 * 1024, 1024)

    # Rate limits (Flask-Limiter syntax). Per address and per account name. The account's longest window is 15
    # minutes, not a day: anyone who knows a username can spend its budget, and must not lock its owner out for long;
    # 20 in any 15 minutes is at most 80 guesses an hour, within ASVS 2.2.1's 100 (docs/security.md).
    SIGN_IN_LIMIT_PER_ADDRESS = os.environ.get("SIGN_IN_LIMIT_PER_ADDRESS", "20 per minute;200 per day")
    SIGN_IN_LIMIT_PER_ACCOUNT = os.environ.get("SIGN_IN_LIMIT_PER_ACCOUNT", "5 per minute;20 per 15 minutes")
    RATELIMIT_ENABLED = _bool_env("RATELIMIT_ENABLED", True)
    # Staff roles that must enrol a second factor (TOTP) at their next sign-in, before any other page
    # (docs/security.md "Second factor (TOTP)"); an empty value requires it of nobody by role.
    MFA_REQUIRED_ROLES = _staff_roles_env("MFA_REQUIRED_ROLES", "admin,manager")
    RATELIMIT_HEADERS_ENABLED = True
    # A moving window counts the attempts of the last minute exactly; a fixed window would allow twice the limit to
    # an attacker who straddles the turn of a minute.
    RATELIMIT_STRATEGY = "moving-window"
    # Number of trusted proxies in front of the app; 0 means X-Forwarded-For is ignored.
    PROXY_COUNT = _int_env("PROXY_COUNT", 0)

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session, which has its own limits
    CLINIC_TIMEZONE = os.environ.get("CLINIC_TIMEZONE", "America/Los_Angeles")
    CLINIC_NAME = os.environ.get("CLINIC_NAME", "Contingency management programme")
    # SQLite durability: FULL syncs every commit to disk; tests trade that for speed.
    SQLITE_SYNCHRONOUS = "FULL"
    DEBUG = False
    TESTING = False


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = _bool_env("SESSION_COOKIE_SECURE", True)
    HSTS_ENABLED = _bool_env("HSTS_ENABLED", True)
    PREFERRED_URL_SCHEME = "https"


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    AUDIT_CHAIN_KEY = "test-audit-chain-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    MIGRATION_DATABASE_URL = None
    REDIS_URL = None
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    # The one place the suite turns the required second factor off: tests about anything else sign in as the admin
    # and the manager with a password alone. Tests of the second factor (tests/mfa) set the roles they need.
    MFA_REQUIRED_ROLES: frozenset[str] = frozenset()
    SQLITE_SYNCHRONOUS = "OFF"


def config_from_environment() -> type[Config]:
    """Pick the configuration named by CM_ENV (development by default)."""
    name = os.environ.get("CM_ENV", "development")
    classes: dict[str, type[Config]] = {"development": Config, "production": ProductionConfig}
    if name not in classes:
        raise ConfigError(f"CM_ENV must be one of {sorted(classes)}, not {name!r}")
    return classes[name]


def check_production_safety(settings: dict[str, object]) -> None:
    """Refuse settings that are unsafe in production (docs/security.md: dev secret key, debugger)."""
    if settings.get("ENV_NAME") != "production":
        return
    secret = settings.get("SECRET_KEY")
    if not secret or secret == DEV_SECRET_KEY or len(str(secret)) < 32:
        raise ConfigError("Set SECRET_KEY to a random value of at least 32 characters in production.")
    chain_key = settings.get("AUDIT_CHAIN_KEY")
    if not chain_key or chain_key == DEV_AUDIT_CHAIN_KEY or len(str(chain_key)) < 32:
        raise ConfigError("Set AUDIT_CHAIN_KEY to a random value of at least 32 characters in production, kept off "
                          "the database host and its backups.")
    if settings.get("DEBUG") or os.environ.get("FLASK_DEBUG") in {"1", "true", "True"}:
        raise ConfigError("The debugger must never run in production (remote code execution).")
