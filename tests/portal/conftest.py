"""Portal fixtures: the story world, and the clock pinned to its day for every test under tests/portal."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from worlds.personas import Personas
from worlds.story import STORY_NOW, Story, story_world


@pytest.hookimpl(tryfirst=True)  # before time-machine's own hook, which turns the marker into its fixture
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The story is told on fixed days of November 2026, so every portal test runs at STORY_NOW (the Friday after
    the last test, noon at the clinic), whatever the real date or the suite's --clock. A test here that needs
    another instant is decorated with its own `@pytest.mark.time_machine(...)`, which wins."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.time_machine(STORY_NOW))


@pytest.fixture
def story(app: Flask, personas: Personas) -> Story:
    """The story world (tests/worlds/story.py), on top of the personas, told through the services: Pat's tests
    N N N P(corrected to N) N M N N on 2-18 Nov 2026, +10 points by hand, a bus pass handed over, a phone card out of
    reach, a small prize waiting and visits around today; Olive's bus-pass request waiting."""
    return story_world(app, personas)
