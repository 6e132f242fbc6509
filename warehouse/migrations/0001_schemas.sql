-- The five schemas. `staging`: canonical rows, every version (history). `marts`: dimensions and
-- facts rebuilt on each refresh. `meta`: migrations, file ledger, quarantine, findings, load audit.
-- `reporting` and `quality`: the public views of reporting-contract.md.
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE SCHEMA IF NOT EXISTS meta;
CREATE SCHEMA IF NOT EXISTS quality;
CREATE SCHEMA IF NOT EXISTS reporting;
