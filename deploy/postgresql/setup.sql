-- The PostgreSQL database of an atelier site, with the least privilege the
-- server needs (docs/DEPLOY.md). Run once, as a superuser, on the database
-- server:
--
--   psql -X -v ON_ERROR_STOP=1 -v password="$(cat /root/atelier-db.password)" \
--        -f deploy/postgresql/setup.sql postgres
--
-- Optional: -v role=NAME -v db=NAME (default atelier for both).
--
-- What the server's role may do, and nothing else:
--   - log in (scram-sha-256 only: see pg_hba.conf in this folder), at most
--     200 connections (each node holds one per thread that touches storage);
--   - connect to its database, and to no other (CONNECT is revoked from
--     PUBLIC on it; other databases keep the defaults, so also revoke
--     CONNECT from PUBLIC on those that hold something);
--   - own one schema, where it creates and migrates its tables: atelier
--     applies its schema migrations itself at start (serialised across
--     nodes by an advisory lock), so it needs DDL there, and only there;
--   - nothing in the schema public (CREATE revoked from PUBLIC), no
--     superuser, no CREATEDB, no CREATEROLE, no replication, no RLS bypass.
-- The database belongs to the superuser that runs this script, so the
-- server's role cannot drop it or change its settings.

\if :{?role}
\else
\set role atelier
\endif
\if :{?db}
\else
\set db atelier
\endif
\if :{?password}
\else
\echo 'setup.sql: give the role a password: -v password=...'
\quit
\endif

CREATE ROLE :"role" LOGIN PASSWORD :'password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS
    CONNECTION LIMIT 200;
-- A transaction left open (a crashed client) is ended after 5 minutes.
ALTER ROLE :"role" SET idle_in_transaction_session_timeout = '5min';

CREATE DATABASE :"db" ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"role";

\connect :"db"
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA atelier AUTHORIZATION :"role";
ALTER ROLE :"role" IN DATABASE :"db" SET search_path = atelier;
