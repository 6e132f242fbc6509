"""What runs after every load: the expectation suites (checkpoint, results, Data Docs), then the
validation report that shows them."""

from __future__ import annotations

import json
import logging

from deflect.core.fields import NOTHING_PUBLIC, FieldClasses
from stewardship.report import write_run_report

log = logging.getLogger(__name__)


def publish_run(config, run_id: str, canonical_suites: tuple = (), expectations: bool = True,
                canonical=None, fields: FieldClasses = NOTHING_PUBLIC) -> dict:
    """Validate the run with GX (unless `expectations` is False), write its report.

    `canonical_suites`: the adapters' suites on their canonical tables.
    `canonical`: the canonical suites already validating in the background
    (stewardship.expectations.start_canonical), as `deflect run` starts them before its load.
    `fields`: which fields' values the report may show (adapters.registry.field_classes()).

    Returns {"report": path of the run's page, "expectations_success": bool | None,
    "tonight": the night's verdict, entry counts and what to do (None for a run with none)}. A failure of
    the suites is logged and reported, never raised: the report is written regardless.
    """
    gx_success = None
    if expectations:
        from stewardship.expectations import run_expectations

        try:
            gx_success = run_expectations(config, run_id, canonical_suites,
                                          canonical=canonical)["success"]
        except Exception as exc:  # noqa: BLE001 - the report must still be written
            log.error(
                "expectations for run %s could not run: %s: %s",
                run_id,
                type(exc).__name__,
                str(exc).splitlines()[0] if str(exc) else "",
            )
    if canonical is not None:
        canonical.discard()  # reaped even when the suites above failed or never ran
    report = write_run_report(config, run_id, fields)
    written = json.loads((report.parent / "report.json").read_text(encoding="utf-8"))
    night = None if written.get("verdict") is None else {
        k: written[k] for k in ("verdict", "new", "carried", "resolved", "todo")}
    return {"report": str(report), "expectations_success": gx_success, "tonight": night}
