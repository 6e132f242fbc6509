-- Each entry's state derived from its own row, so that a reading that wants some entries pays
-- for those. 0023 and 0025 derived the states of every entry in WITH clauses, which PostgreSQL
-- computes whole before any filter: the steward report, which needs the entries still open and
-- those closed since the previous night, paid for five years of entries closed long ago
-- (docs/performance.md, "Entries closed long ago"). Here:
--   * the load stores the run that superseded an entry beside its load (superseded_run_id; the
--     run of superseded_load_seq, as 0025's view looked it up in meta.load_audit), so a record
--     entry's state_run_id is arithmetic on its own columns, and a filter on it is applied as
--     the table is scanned;
--   * what is looked up elsewhere is looked up per row, for the rows that need it: a file
--     entry's closing load (by index on the ledger's history and the replays), and the copies
--     of an entry no load has checked (by staging's keys); an unchecked or older row without
--     superseded_run_id gets its run from meta.load_audit;
--   * quality.quarantine is that derivation over meta.quarantine, with no join of the table to
--     itself, and quality.quarantine_state its state columns.
-- Same columns, names and meaning as 0025 (tests/warehouse/test_entry_state_per_row.py compares
-- the rows), so both views are replaced in place and keep their grants. The views are
-- PostgreSQL's (0026_entry_state_per_row.postgresql.sql): DuckDB runs a per-row lookup as a join
-- over every entry (0025's joins read three times faster there), so it keeps 0025's views and
-- gets the column, which its loads write too.
ALTER TABLE meta.quarantine ADD COLUMN superseded_run_id text;
UPDATE meta.quarantine SET superseded_run_id = a.run_id
FROM (SELECT load_seq, min(run_id) AS run_id FROM meta.load_audit GROUP BY load_seq) a
WHERE meta.quarantine.superseded_load_seq = a.load_seq;
