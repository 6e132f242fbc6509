"""Airflow plugin: the deflect steward workbench in the API server, and a link to it in the
Airflow UI's navigation. The app and its protection live in the `workbench` package."""

from __future__ import annotations

from typing import ClassVar

from airflow.plugins_manager import AirflowPlugin

from workbench.app import create_app

URL_PREFIX = "/deflect-workbench"


class DeflectWorkbenchPlugin(AirflowPlugin):
    name = "deflect_workbench"
    fastapi_apps: ClassVar[list[dict]] = [
        {"app": create_app(), "url_prefix": URL_PREFIX, "name": "deflect steward workbench"}
    ]
    # a link in the UI's navigation, opening the workbench inside the Airflow UI
    external_views: ClassVar[list[dict]] = [
        {
            "name": "Steward workbench",
            "href": URL_PREFIX + "/",
            "destination": "nav",
            "url_route": "deflect-workbench",
        }
    ]
