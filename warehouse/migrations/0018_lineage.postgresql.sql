-- PostgreSQL only, after 0018_lineage.sql: grants. Stewards and the pipeline's account read the
-- lineage; analysts do not: it names source records and files, which `reporting` does not.
REVOKE ALL ON quality.lineage FROM PUBLIC;
REVOKE ALL ON quality.lineage FROM deflect_analyst;
GRANT SELECT ON quality.lineage TO deflect_steward, deflect_loader;
