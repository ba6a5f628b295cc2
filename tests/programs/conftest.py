"""Programme administration fixtures: the clinic factory of the service tests."""

from factories import make_clinic  # noqa: F401 - a fixture, registered here for the programme tests
