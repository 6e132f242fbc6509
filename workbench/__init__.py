"""The steward workbench: a FastAPI app that Airflow's API server mounts (plugins/), so that a
data steward reads the night, works the quarantine queue, marks entries and replays corrected
files from the Airflow UI, never from a shell.

Like the DAGs, it sits above the composing layer: it reads and writes the same `quality` data as
`deflect quarantine` through `stewardship` (entry states, marks, exports, masking) and replays
through the `deflect_replay` DAG. Every route is behind Airflow's auth manager (workbench.auth).
"""
