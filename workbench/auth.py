"""Who is asking, and may they write: Airflow's auth manager on every route of the workbench.

A plugin's FastAPI app is mounted in the API server but Airflow does not protect its routes, so
each route depends on `current_viewer`. The user is resolved exactly as the API server's own
routes resolve it (`airflow.api_fastapi.core_api.security.get_user`: a bearer token, else the
UI's JWT cookie); no user, no page (401). Reading needs read access to the deflect DAGs' runs;
writing (marks, replays) needs what triggering the replay DAG needs: POST on its DAG runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends, HTTPException, status

READ_DAG = "deflect_nightly"  # who may see the nights' runs may read the workbench
WRITE_DAG = "deflect_replay"  # who may trigger a replay may mark and replay


@dataclass(frozen=True)
class Viewer:
    """The signed-in Airflow user, as the pages need them: a name for the audit trail."""

    name: str
    may_write: bool


def _allowed(user, method: str, dag_id: str) -> bool:
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager().is_authorized_dag(
        method=method, access_entity=DagAccessEntity.RUN, details=DagDetails(id=dag_id),
        user=user)


def current_viewer(user: GetUserDep) -> Viewer:
    """The dependency of every route: 401 without a signed-in user, 403 without read access."""
    if not _allowed(user, "GET", READ_DAG):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "no access to the deflect DAGs")
    return Viewer(name=user.get_name(), may_write=_allowed(user, "POST", WRITE_DAG))


def current_writer(viewer: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
    """The dependency of every write: 403 for a reader, before the request's form is even
    looked at (a malformed write from a reader is a 403 too, not a validation error)."""
    if not viewer.may_write:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"marking and replaying need the right to trigger {WRITE_DAG}")
    return viewer
