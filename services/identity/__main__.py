"""`python -m services.identity migrate | serve --host H --port P`."""

from libs.common.cli import run_service
from services.identity.app import create_app
from services.identity.settings import load_identity_settings

if __name__ == "__main__":
    run_service(
        name="identity",
        piccolo_app="identity",
        piccolo_conf="services.identity.piccolo_conf",
        load_settings=load_identity_settings,
        create_app=create_app,
    )
