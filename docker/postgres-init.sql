-- Runs once, on an empty data volume, as the superuser: the warehouse database and its owner
-- beside Airflow's metadata database, and the roles migration 0008 grants to.
-- The password comes from the secret deflect_db_password, read by this script as `postgres`
-- (uid 999): docker/make-secrets.sh gives that file to uid 999.
\set deflect_password `cat /run/secrets/deflect_db_password`
CREATE ROLE deflect LOGIN PASSWORD :'deflect_password';
CREATE DATABASE deflect OWNER deflect;
-- Roles are created here rather than by giving `deflect` CREATEROLE: CREATEROLE lets a role
-- create and alter other roles (before PostgreSQL 16, grant itself any non-superuser role), far
-- more than a pipeline's account needs. Migration 0008 creates these only when missing and
-- grants to them; as the owner of the warehouse's objects, `deflect` may grant on them.
-- No passwords: whoever uses them gets one from the database administrator.
CREATE ROLE deflect_loader LOGIN;
CREATE ROLE deflect_steward LOGIN;
CREATE ROLE deflect_analyst LOGIN;
