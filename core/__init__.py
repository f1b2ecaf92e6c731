"""What every area of the support desk stands on: the database, the settings, the clock, the
support calendar, phone numbers and the limits on stored text.

Nothing here imports another package of the project, and `app.py` is the only module that
binds these to a Flask app (`core.db.init_app`, `core.settings.init_app`, `core.clock.init_app`).
"""
