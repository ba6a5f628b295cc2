"""Service-level fixtures."""

from factories import make_clinic  # noqa: F401 - a fixture, registered here for the service tests
