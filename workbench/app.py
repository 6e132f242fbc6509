"""The workbench's routes. `create_app()` is what the Airflow plugin mounts (plugins/
deflect_workbench.py); tests build it with a configuration and a stand-in for Airflow's runs.

Every route depends on `current_viewer` (workbench.auth): no signed-in user, no page. Writes (a
mark, an upload) also need the right to trigger the replay DAG, and come only from this site
(an Origin header naming another host is refused): the UI's cookie is what signs them.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import uuid
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.registry import field_classes
from stewardship import data
from stewardship.quarantine import StewardError, export_entries_csv, mark, unit_of
from workbench import pages
from workbench.auth import Viewer, current_viewer, current_writer

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
UPLOAD_CHUNK = 1 << 20
CONFIG_ENV = "DEFLECT_CONFIG"  # as the DAGs read it (dags/deflect_common.py)
CONFIG_VARIABLE = "deflect_config"

ViewerDep = Annotated[Viewer, Depends(current_viewer)]
WriterDep = Annotated[Viewer, Depends(current_writer)]


def config_from_airflow():
    """The deflect configuration, found as the DAGs find it: $DEFLECT_CONFIG, else the Airflow
    Variable `deflect_config`. Read at every request, so a changed file needs no restart."""
    from deflect.configuration import load_config

    path = os.environ.get(CONFIG_ENV)
    if not path:
        from airflow.models import Variable

        path = Variable.get(CONFIG_VARIABLE, default_var=None)
    if not path:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            f"no deflect configuration: set {CONFIG_ENV} for the API server")
    return load_config(path)


def _same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a write must come from this site")


def create_app(config_loader=config_from_airflow, airflow_runs=None) -> FastAPI:
    """The workbench app. `config_loader()` gives the deflect configuration; `airflow_runs`
    triggers the replay DAG and lists an entry's runs (workbench.airflow_runs.AirflowRuns)."""
    if airflow_runs is None:
        from workbench.airflow_runs import AirflowRuns

        airflow_runs = AirflowRuns()
    app = FastAPI(title="deflect steward workbench", docs_url=None, redoc_url=None,
                  openapi_url=None)

    def render(request: Request, name: str, viewer: Viewer | None, code: int = 200, **context):
        base = request.scope.get("root_path", "").rstrip("/")
        return TEMPLATES.TemplateResponse(
            request, name, {"base": base, "viewer": viewer, "urlencode": urlencode, **context},
            status_code=code)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        # a short page, and nothing of the warehouse, for a client not signed in or not allowed
        return render(request, "error.html", None, code=exc.status_code,
                      status=exc.status_code, detail=exc.detail)

    try:  # an embedded DuckDB warehouse is locked while a run loads it: say so, briefly
        from duckdb import IOException as WarehouseLocked
    except ImportError:  # pragma: no cover - DuckDB is a dependency of the project
        WarehouseLocked = None
    if WarehouseLocked is not None:

        @app.exception_handler(WarehouseLocked)
        async def warehouse_busy(request: Request, exc: Exception):
            if "lock" not in str(exc).lower():
                raise exc
            return render(request, "error.html", None, code=503, status=503,
                          detail="The warehouse is busy: a run is loading it. Reload in a "
                                 "minute.")

    def config():
        return config_loader()

    @app.get("/", response_class=HTMLResponse)
    def tonight_page(request: Request, viewer: ViewerDep, run: str | None = None):
        cfg = config()
        night = pages.tonight_of(cfg, run or None)
        units = {s.source: unit_of(cfg, s.source) for s in night.sources}
        return render(request, "tonight.html", viewer, night=night, units=units,
                      flags=pages.flags_of(cfg, night.run_id))

    @app.get("/queue", response_class=HTMLResponse)
    def queue_page(
        request: Request,
        viewer: ViewerDep,
        unit: str | None = None,
        code: str | None = None,
        status_: Annotated[str | None, Query(alias="status")] = None,
        min_age: str | None = None,
        file: str | None = None,
        source: str | None = None,
        sort: str = "age",
        tonight: str | None = None,
        run: str | None = None,
    ):
        if status_ and status_ not in data.STATES:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"unknown status {status_!r}")
        f = pages.QueueFilter(
            unit=unit or None, code=code or None, status=status_ or None,
            min_age=int(min_age) if (min_age or "").strip().isdigit() else None,
            file=file or None, source=source or None, sort=sort,
            tonight=tonight if tonight in pages.TONIGHT_SETS else None, run=run or None)
        return render(request, "queue.html", viewer, q=pages.queue(config(), f),
                      states=data.STATES, sorts=pages.SORTS)

    @app.get("/entries/{entry_id}", response_class=HTMLResponse)
    def entry_page(request: Request, viewer: ViewerDep, entry_id: str, done: str | None = None):
        try:
            detail = pages.entry(config(), entry_id)
        except StewardError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
        runs = airflow_runs.runs_for_entry(detail["entry"]["quarantine_id"])
        return render(request, "entry.html", viewer, d=detail, runs=runs, done=done,
                      review_statuses=data.REVIEW_STATUSES)

    @app.post("/entries/{entry_id}/mark")
    def mark_entry(
        request: Request,
        viewer: WriterDep,
        entry_id: str,
        status_: Annotated[str, Form(alias="status")],
        note: Annotated[str, Form()] = "",
    ):
        _same_origin(request)
        try:
            got = mark(config(), entry_id, status_, note=note.strip() or None, who=viewer.name)
        except StewardError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
        base = request.scope.get("root_path", "").rstrip("/")
        return RedirectResponse(f"{base}/entries/{got['quarantine_id']}?done=marked",
                                status.HTTP_303_SEE_OTHER)

    @app.post("/entries/{entry_id}/replay")
    def replay_entry(
        request: Request,
        viewer: WriterDep,
        entry_id: str,
        corrected: Annotated[UploadFile, File()],
    ):
        _same_origin(request)
        cfg = config()
        try:
            en = pages.entry(cfg, entry_id)["entry"]
        except StewardError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
        try:
            cfg.source(en["source"])
        except KeyError:
            raise HTTPException(status.HTTP_400_BAD_REQUEST,
                                f"source {en['source']} is no longer configured") from None
        path = _store_upload(cfg, corrected, en["file_name"])
        run = airflow_runs.trigger_replay(
            {"file": str(path), "source": en["source"], "name": en["file_name"],
             "entry": en["quarantine_id"], "requested_by": viewer.name},
            viewer.name)
        base = request.scope.get("root_path", "").rstrip("/")
        return RedirectResponse(
            f"{base}/entries/{en['quarantine_id']}?{urlencode({'done': 'replay ' + run.run_id})}",
            status.HTTP_303_SEE_OTHER)

    @app.get("/export.csv")
    def export_csv(viewer: ViewerDep, unit: str, status_: Annotated[
            str, Query(alias="status")] = "open"):
        if status_ not in data.STATES:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"unknown status {status_!r}")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "entries.csv"
            export_entries_csv(config(), out, unit=unit, status=status_, fields=field_classes())
            body = out.read_bytes()
        safe = "".join(ch for ch in unit if ch.isalnum() or ch in "-_") or "unit"
        return Response(body, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{safe}-{status_}-entries.csv"'})

    @app.get("/deflections/{deflection_id}", response_class=HTMLResponse)
    def deflection_page(request: Request, viewer: ViewerDep, deflection_id: str):
        return render(request, "lineage.html", viewer, d=pages.lineage(config(), deflection_id))

    @app.get("/deflections", response_class=HTMLResponse)
    def find_deflection(request: Request, viewer: ViewerDep, id: str = ""):
        wanted = id.strip()
        if not wanted:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "give a deflection id")
        return deflection_page(request, viewer, wanted)

    return app


def _store_upload(config, upload: UploadFile, name: str) -> Path:
    """The corrected file, under `landing_dir/replay/uploads/<stamp>-<hex>/` (owner only), with
    the quarantined file's name so the ledger's history of that file applies. At most
    `max_file_bytes`, as for a file fetched from a source."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
    folder = Path(config.landing_dir) / "replay" / "uploads" / stamp
    folder.mkdir(parents=True, mode=0o700)
    target = folder / Path(name).name
    size = 0
    with open(target, "wb") as fh:
        while chunk := upload.file.read(UPLOAD_CHUNK):
            size += len(chunk)
            if size > config.max_file_bytes:
                fh.close()
                target.unlink()
                folder.rmdir()
                raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                                    f"over the size limit of {config.max_file_bytes} bytes")
            fh.write(chunk)
    if size == 0:
        target.unlink()
        folder.rmdir()
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the uploaded file is empty")
    return target

