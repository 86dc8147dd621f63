"""`python -m services.sessions migrate | serve --host H --port P`."""

from libs.common.cli import run_service
from services.sessions.settings import load_sessions_settings

if __name__ == "__main__":
    run_service(
        name="sessions",
        piccolo_app="sessions",
        piccolo_conf="services.sessions.piccolo_conf",
        load_settings=load_sessions_settings,
        app_factory="services.sessions.app:app_from_environment",
    )
