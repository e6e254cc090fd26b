"""The PostgreSQL set-up of deploy/postgresql/ (issue 17, item 4;
docs/DEPLOY.md), on the postgres run (the sqlite run has no PostgreSQL: the
tests below are defined only when there is one, so nothing is skipped or
counted there).

  - setup.sql, run as it says (psql as a superuser), makes a role that is
    not a superuser and cannot create databases or roles, and a database
    only that role may connect to (apart from superusers);
  - atelier started with that role creates its schema in the schema
    "atelier" the role owns (none in public) and serves;
  - the role cannot create anything in public, nor drop its database;
  - `atelier migrate --from sqlite:... --to` that role's URL copies a site;
  - every setting of postgresql.conf is a setting of this PostgreSQL.
"""

import os
import re
import secrets
import subprocess
import urllib.parse

import pytest

import pg_helpers
from accounts_helpers import create_account, outbox
from conftest import ATELIER_BIN, BACKEND, PG_URL, ROOT, server_env

SETUP = os.path.join(ROOT, "deploy", "postgresql", "setup.sql")
CONF = os.path.join(ROOT, "deploy", "postgresql", "postgresql.conf")


def url_as(role, password, db):
    parts = urllib.parse.urlsplit(PG_URL)
    netloc = f"{role}:{password}@{parts.hostname}:{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc, path="/" + db))


def psql(url, *args, check=True):
    p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *args, url], capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return p


if BACKEND == "postgres":

    @pytest.fixture(scope="module")
    def setup_db():
        role = "atelier_r_" + secrets.token_hex(4)
        db = "atelier_d_" + secrets.token_hex(4)
        password = secrets.token_urlsafe(18)
        psql(PG_URL, "-v", f"role={role}", "-v", f"db={db}", "-v", f"password={password}", "-f", SETUP)
        try:
            yield role, db, url_as(role, password, db)
        finally:
            pg_helpers.forget_database(db)
            pg_helpers.execute(PG_URL, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            pg_helpers.execute(PG_URL, f'DROP ROLE IF EXISTS "{role}"')

    def test_the_role_has_no_privilege_beyond_its_schema(setup_db):
        role, db, url = setup_db
        rows = pg_helpers.execute(PG_URL, "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication,"
                                          f" rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = '{role}'")
        assert rows == [(False, False, False, False, False, True)], rows
        p = psql(url, "-c", "CREATE TABLE public.intruder (a int)", check=False)
        assert p.returncode != 0 and "permission denied" in p.stderr, p.stderr
        p = psql(url.rsplit("/", 1)[0] + "/postgres", "-c", f'DROP DATABASE "{db}"', check=False)
        assert p.returncode != 0 and "must be owner" in p.stderr, p.stdout + p.stderr
        # no one but the role (and superusers) may connect
        acl = pg_helpers.execute(PG_URL, f"SELECT datacl::text FROM pg_database WHERE datname = '{db}'")[0][0]
        grantees = {e.split("=")[0] for e in acl.strip("{}").split(",")}
        assert "" not in grantees, acl  # "=c/..." would be PUBLIC
        assert role in grantees, acl

    def test_atelier_migrates_and_serves_in_its_schema(setup_db, server_factory):
        role, db, url = setup_db
        srv = server_factory.start(database=url)
        create_account(srv, outbox(srv), "pgsetup")
        rows = pg_helpers.execute(PG_URL.rsplit("/", 1)[0] + "/" + db,
                                  "SELECT table_schema, count(*) FROM information_schema.tables"
                                  " WHERE table_schema IN ('public', 'atelier') GROUP BY 1")
        counts = dict(rows)
        assert counts.get("public", 0) == 0, counts
        assert counts.get("atelier", 0) >= 15, counts
        owners = pg_helpers.execute(PG_URL.rsplit("/", 1)[0] + "/" + db,
                                    "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'atelier'")
        assert owners == [(role,)], owners

    def test_a_site_can_be_copied_into_it(tmp_path):
        role = "atelier_r_" + secrets.token_hex(4)
        db = "atelier_d_" + secrets.token_hex(4)
        psql(PG_URL, "-v", f"role={role}", "-v", f"db={db}", "-v", "password=pw", "-f", SETUP)
        try:
            env = server_env()
            p = subprocess.run([ATELIER_BIN, "populate", "--models", "20", "--data", str(tmp_path)],
                               capture_output=True, text=True, env=env, timeout=120)
            assert p.returncode == 0, p.stderr[-2000:]
            p = subprocess.run([ATELIER_BIN, "migrate", "--from", f"sqlite:{tmp_path}", "--to",
                                url_as(role, "pw", db)], capture_output=True, text=True, env=env, timeout=120)
            assert p.returncode == 0, p.stderr[-2000:]
            assert "accounts 20," in p.stdout, p.stdout
        finally:
            pg_helpers.forget_database(db)
            pg_helpers.execute(PG_URL, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            pg_helpers.execute(PG_URL, f'DROP ROLE IF EXISTS "{role}"')

    def test_every_setting_of_the_conf_exists():
        with open(CONF) as f:
            names = [m.group(1) for m in (re.match(r"^\s*([a-z_]+)\s*=", line) for line in f) if m]
        assert len(names) >= 15, names
        known = {r[0] for r in pg_helpers.execute(PG_URL, "SELECT name FROM pg_settings")}
        assert set(names) <= known, set(names) - known
