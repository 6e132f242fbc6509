"""The workbench's side of Airflow: trigger the replay DAG for a corrected file, and find the
replay DAG runs of an entry. Runs inside the API server, on its metadata database."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from workbench.auth import WRITE_DAG

REPLAY_DAG = WRITE_DAG


@dataclass(frozen=True)
class DagRunLink:
    """A replay DAG run as an entry's page shows it; `url` is its page in the Airflow UI."""

    run_id: str
    state: str
    requested_by: str | None
    queued_at: str | None
    url: str


def _link(run) -> DagRunLink:
    conf = run.conf or {}
    queued = getattr(run, "queued_at", None) or getattr(run, "run_after", None)
    return DagRunLink(run_id=run.run_id, state=str(getattr(run.state, "value", run.state)),
                      requested_by=conf.get("requested_by"),
                      queued_at=queued.isoformat(timespec="seconds") if queued else None,
                      url=f"/dags/{REPLAY_DAG}/runs/{quote(run.run_id, safe='')}")


class AirflowRuns:
    """Airflow's metadata, in the API server's own process."""

    def trigger_replay(self, conf: dict, user_name: str) -> DagRunLink:
        from airflow.api.common.trigger_dag import trigger_dag
        from airflow.utils.types import DagRunTriggeredByType

        run = trigger_dag(REPLAY_DAG, triggered_by=DagRunTriggeredByType.UI,
                          triggering_user_name=user_name, conf=conf,
                          note=f"replay for quarantine entry {conf.get('entry')}")
        return _link(run)

    def runs_for_entry(self, entry_id: str) -> list[DagRunLink]:
        """Replay DAG runs whose conf names the entry (the link the upload made), newest first."""
        from airflow.models.dagrun import DagRun
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            runs = session.scalars(
                select(DagRun).where(DagRun.dag_id == REPLAY_DAG).order_by(DagRun.id.desc())
            ).all()
            return [_link(r) for r in runs if (r.conf or {}).get("entry") == entry_id]
