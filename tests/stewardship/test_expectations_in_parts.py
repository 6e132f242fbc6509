"""The canonical suites validate a run's batch files a part at a time (bounded memory on a
year's backfill): the summary must say what one frame of the whole run would have said —
counts, duplicates within a file, the first unexpected rows in order — and a uniqueness that
spans files keeps the suite in one part."""
from __future__ import annotations

import csv
import datetime as dt

import pytest

from deflect.core.expectations import Suite, in_set, matches, not_null, unique
from stewardship import expectations

pytestmark = pytest.mark.slow

TABLE = "stg_test__thing"
COLUMNS = ("file_sha256", "record_id", "sex", "code", "note")
SUITE = Suite(
    "canonical_test_thing",
    "canonical",
    TABLE,
    ("file_sha256", "record_id"),
    (
        *not_null("record_id", "sex"),
        in_set("sex", ("M", "F", "U")),
        matches("code", r"^[A-Z]{2}$"),
        unique("file_sha256", "record_id"),
    ),
)


def _write_run(run_dir):
    """Six batches of two files each: bad codes in every batch (more than are shown), a
    duplicate record within a file, the same record id in two files (not a duplicate), a
    missing sex, and a column no expectation reads."""
    n = 0
    for b in range(6):
        path = run_dir / "batches" / f"b{b:04d}" / f"{TABLE}.csv"
        path.parent.mkdir(parents=True)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(COLUMNS)
            for f in range(2):
                sha = f"{b:02d}{f:02d}" + "0" * 60
                for r in range(7):
                    n += 1
                    code = "AB" if r % 2 else f"x{n}"  # a bad code every other row
                    sex = "" if (b, f, r) == (3, 1, 2) else ("Q" if r == 5 else "M")
                    w.writerow((sha, f"R{r}", sex, code, "free text, \"quoted\"\nlines"))
                if (b, f) in ((1, 0), (4, 1)):
                    w.writerow((sha, "R3", "M", "CD", ""))  # a duplicate within this file
    # a batch whose file for this table is only a header
    (run_dir / "batches" / "b0006").mkdir(parents=True)
    (run_dir / "batches" / "b0006" / f"{TABLE}.csv").write_text(",".join(COLUMNS) + "\n")


def _summary(tmp_path, part_bytes, suite=SUITE):
    run_dir = tmp_path / "run"
    if not run_dir.exists():
        _write_run(run_dir)
    parts = expectations.canonical_parts(run_dir, suite, part_bytes)
    ctx = expectations._context(tmp_path / f"report-{part_bytes}")
    [entry] = expectations._validate(ctx, [suite], {suite.name: parts}, "run_x",
                                     dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
    return parts, entry


def _comparable(entry):
    return {k: v for k, v in entry.items() if k not in ("result_keys", "parts")}


def test_parts_give_the_summary_of_one_frame(tmp_path):
    whole_parts, whole = _summary(tmp_path, 10**9)
    parts, parted = _summary(tmp_path, 1)  # every batch a part of its own
    assert len(whole_parts.parts) == 1 and len(parts.parts) == 6  # the header-only file: none
    assert parted["parts"] == 6 and len(parted["result_keys"]) == 6
    assert _comparable(parted) == _comparable(whole)
    by_type = {x["expectation"]: x for x in whole["expectations"]}
    assert whole["rows"] == 6 * 2 * 7 + 2
    # both within-file duplicates, each counted as its two rows; R0..R6 repeat across files
    assert by_type["expect_compound_columns_to_be_unique"]["unexpected_count"] == 4
    assert by_type["expect_column_values_to_be_in_set"]["unexpected_count"] == 12
    bad_codes = by_type["expect_column_values_to_match_regex"]
    assert bad_codes["unexpected_count"] == 6 * 2 * 4
    # the first 20 of them, in the order of the batches: part 1's 8, then part 2's, ...
    assert len(bad_codes["unexpected_rows"]) == expectations.UNEXPECTED_ROWS_SHOWN
    assert [r["code"] for r in bad_codes["unexpected_rows"]][:3] == ["x1", "x3", "x5"]
    assert not whole["success"] and not parted["success"]


def test_parts_hold_whole_batches_up_to_the_budget(tmp_path):
    _write_run(tmp_path)
    sizes = sorted(p.stat().st_size for p in tmp_path.glob(f"batches/*/{TABLE}.csv"))[1:]
    parts = expectations.canonical_parts(tmp_path, SUITE, 2 * max(sizes))
    assert [len(p) for p in parts.parts] == [2, 2, 2]
    assert sum(parts.parts, ()) == tuple(
        p for p in sorted(tmp_path.glob(f"batches/*/{TABLE}.csv")) if p.parent.name != "b0006")
    frames = list(parts.frames())
    assert [len(f) for f in frames] == [29, 28, 29]  # batches 1 and 4 hold a duplicate row
    assert list(frames[0].columns) == list(SUITE.columns)  # "note" is not read


def test_a_uniqueness_across_files_keeps_one_part(tmp_path):
    across = Suite("canonical_test_across", "canonical", TABLE, ("record_id",),
                   (unique("record_id", "code"),))
    parts, entry = _summary(tmp_path, 1, across)
    assert len(parts.parts) == 1 and "parts" not in entry
    [check] = entry["expectations"]
    assert check["unexpected_count"] > 0  # "AB" rows repeat across files and batches


def test_no_part_when_no_batch_has_a_row(tmp_path):
    (tmp_path / "batches" / "b0000").mkdir(parents=True)
    (tmp_path / "batches" / "b0000" / f"{TABLE}.csv").write_text(",".join(COLUMNS) + "\n")
    assert expectations.canonical_parts(tmp_path, SUITE) is None


def test_the_report_says_a_suite_was_checked_in_parts():
    from stewardship.report import _checked

    assert _checked({"scope": "batches"}) == "every row tonight's batches brought"
    assert _checked({"scope": "batches", "parts": 3}).endswith(", in 3 parts of whole batches")
