"""The JSON API (docs/api.md), mounted at /api/v1. Each module adds the endpoints of one resource."""

from cm_tracker.api import (  # noqa: F401  (registers the routes)
    activities,
    auth,
    balances,
    consents,
    events,
    labs,
    mfa,
    openapi,
    patients,
    programs,
    reports,
    rewards,
    users,
    workflows,
)
from cm_tracker.api.blueprint import bp

__all__ = ["bp"]
