-- Runs once, on an empty data volume: the warehouse database beside Airflow's metadata database.
-- Passwords come from the secrets through the environment of the init container (psql variables).
\set deflect_password `cat /run/secrets/deflect_db_password`
CREATE ROLE deflect LOGIN PASSWORD :'deflect_password';
CREATE DATABASE deflect OWNER deflect;
