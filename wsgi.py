"""Entry point for gunicorn (`gunicorn wsgi:app`) and the flask command (`flask --app wsgi ...`)."""

from cm_tracker import create_app

app = create_app()
