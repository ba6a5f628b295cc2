"""Report fixtures: the clinic factory of tests/factories.py."""

from factories import make_clinic  # noqa: F401 - a fixture, registered here for the report tests
