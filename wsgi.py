"""Entry point for gunicorn (`gunicorn wsgi:app`) and the flask command (`flask --app wsgi ...`)."""

import gc

from cm_tracker import create_app

app = create_app()
# Everything loaded so far (the app, its modules, Babel's locale data, SQLAlchemy's mappers) lives as long as the
# process: frozen, the collector stops scanning it on every full collection, which otherwise shows as a pause of tens
# of milliseconds in a page that builds many rows (the gc module's documentation recommends this for a pre-fork
# server such as gunicorn).
gc.freeze()
