"""`deflect rekey`: make every person key again with a new secret, from the landing archive.

Person keys cannot be converted from one secret to another (names and birth dates never enter
the warehouse), so re-keying re-extracts every file the archive holds. Under the run lock:

1. refuse unless every file the ledger says was loaded is still in the landing archive (a file
   lost to retention would be lost from the warehouse for good);
2. empty the staging tables and the current ledger (the ledger's history stays), and record the
   new secret's fingerprint;
3. replay the whole archive, oldest receipt day to newest (deflect.backfill), in the same lock.

Quarantine entries, findings and deflection ids do not depend on the key and stay as they are.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from adapters.registry import staging_tables
from deflect.backfill import backfill
from deflect.core.config import Config
from deflect.core.person_key import secret_fingerprint

_DAY = re.compile(r"^\d{8}$")


class RekeyError(ValueError):
    """Re-keying would lose data, or there is nothing to re-key from."""


def archive_days(config: Config) -> tuple[dt.date, dt.date] | None:
    days = sorted(
        d.name for s in config.sources
        for d in (Path(config.landing_dir) / s.name).glob("*") if d.is_dir() and _DAY.match(d.name)
    )
    if not days:
        return None
    parse = lambda d: dt.datetime.strptime(d, "%Y%m%d").date()
    return parse(days[0]), parse(days[-1])


def rekey(config: Config, as_of: dt.date | None = None) -> dict:
    from warehouse import connect, migrate
    from warehouse.keying import record_fingerprint
    from warehouse.locks import run_lock
    from warehouse.refresh import refresh_whole_next

    fingerprint = secret_fingerprint(config.person_key_secret())
    with run_lock(config.warehouse):
        with connect(config.warehouse) as wh:
            migrate(wh)
            loaded = wh.query("SELECT source, remote_name, landing_path FROM meta.file_ledger "
                              "WHERE status = 'loaded'")
            lost = [f"{s}/{n}" for s, n, p in loaded if not p or not Path(p).is_file()]
            if lost:
                raise RekeyError(
                    f"{len(lost)} loaded file(s) are no longer in the landing archive (first: "
                    f"{lost[0]}); re-keying would drop their records for good")
            span = archive_days(config)
            if span is None:
                raise RekeyError(f"the landing archive {config.landing_dir} holds no files")
            with wh.transaction():
                for kind in staging_tables():
                    for table in kind.tables:
                        wh.execute(f"DELETE FROM staging.{table.name}")
                wh.execute("DELETE FROM meta.file_ledger")
                # the staged copies that superseded entries are gone until loaded again
                wh.execute("UPDATE meta.quarantine SET superseded_load_seq = NULL, "
                           "superseded_run_id = NULL")
                refresh_whole_next(wh)  # staging was rewritten, not appended to
            record_fingerprint(wh, fingerprint)
        result = backfill(config, span[0], span[1], as_of=as_of, lock=False)
    result["rekeyed"] = {"from": span[0].isoformat(), "to": span[1].isoformat(),
                         "files": len(loaded)}
    return result
