"""No lost update in the catalog: ten managers saving one item with the version they all loaded, at once, make one
edit; the other nine are refused as stale (core.versions.claim_version), on SQLite and PostgreSQL."""

from __future__ import annotations

from helpers import in_threads


def test_ten_concurrent_edits_of_one_item_with_one_version_have_one_winner(app, personas, shop):
    from cm_tracker.extensions import db
    from cm_tracker.models import Reward, User
    from cm_tracker.services.core.errors import Conflict
    from cm_tracker.services.usecases import catalog

    with app.app_context():
        version = db.session.get(Reward, shop.card).version

    def work(i: int) -> object:
        item, manager = db.session.get(Reward, shop.card), db.session.get(User, personas.manager)
        data = catalog.RewardInput(name=f"Gift card {i}", value_cents=1000, cost_points=40,
                                   program_id=personas.program)
        return catalog.update_reward(item, data, version=version, actor=manager).name

    outcomes = in_threads(app, 10, work)
    names = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(names) == 1 and len(refused) == 9, outcomes
    assert {exc.code for exc in refused} == {"stale_version"}
    with app.app_context():
        saved = db.session.get(Reward, shop.card)
        assert (saved.name, saved.version) == (names[0], version + 1)
