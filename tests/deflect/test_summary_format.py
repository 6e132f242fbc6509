"""`deflect summary`'s per-source table says what happened to every record, the ones already
accepted from an earlier file included (a summary written before that count existed shows `-`)."""
from deflect.summary import format_summary

SOURCE = {"status": "ok", "files_seen": 3, "files_loaded": 2, "files_pending": 0,
          "files_quarantined": 1, "files_duplicate": 0, "records_loaded": 40,
          "records_quarantined": 2}


def _row(text: str, name: str) -> list[str]:
    return next(line.split() for line in text.splitlines() if line.startswith(name))


def test_records_already_accepted_have_their_column():
    result = {"run_id": "r", "as_of": "2026-11-01", "deflection_counts": [],
              "followup_compliance": [], "failed_sources": [],
              "sources": {"meg-sieg": {**SOURCE, "records_already_accepted": 57},
                          "tracs-isp": SOURCE}}
    text = format_summary(result)
    header = next(line for line in text.splitlines() if line.startswith("source"))
    assert header.split()[-1] == "rec.known"
    assert _row(text, "meg-sieg")[-3:] == ["40", "2", "57"]
    assert _row(text, "tracs-isp")[-3:] == ["40", "2", "-"]
