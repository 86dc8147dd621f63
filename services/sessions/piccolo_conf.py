"""Piccolo configuration used by `python -m services.sessions migrate` (DATABASE_URL names the database)."""

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

DB = PostgresEngine(config={"dsn": os.environ["DATABASE_URL"]})
APP_REGISTRY = AppRegistry(apps=["services.sessions.piccolo_app"])
