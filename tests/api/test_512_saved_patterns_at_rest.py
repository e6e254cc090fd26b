"""Saved patterns sealed at rest (SPEC section 1 "At rest", issue 14): the
name, notes, options, design (it tells the breasts flag) and the snapshot
(the model's name and measurements) never appear in clear in the database,
on SQLite (atelier.db and its -wal/-shm) or PostgreSQL (every table's COPY
dumps); only ids and times are clear columns; changed values do not
linger, nor does a deleted pattern (SQLite secure_delete)."""

from accounts_helpers import create_account, hex_forms, outbox, pg_dump_bytes, sqlite_files_bytes
from models_helpers import create_model, patch
from saved_patterns_helpers import bust_body, pattern_path, refresh, save_pattern
from sealed_helpers import raw_row, unsealed

CLEAR_OK = {"id", "account_id", "model_id", "snapshot_at", "created_at", "updated_at"}
SEALED = {"design_sealed", "name_sealed", "notes_sealed", "options_sealed", "snapshot_sealed"}


def stored(srv, backend):
    if backend == "postgres":
        return pg_dump_bytes(srv.database_url), "the PostgreSQL tables"
    return sqlite_files_bytes(srv.data_dir), "atelier.db/-wal/-shm"


def assert_absent(blob, needles, where, backend):
    for label, needle in needles.items():
        for form in (hex_forms(needle) if backend == "postgres" else [needle]):
            assert form not in blob, f"{label} ({needle[:40]!r}) is readable in {where}"


def assert_row_sealed(srv, backend, pid):
    row = raw_row(srv, backend, "patterns", "id", pid)
    assert row is not None, "the check reads nothing"
    assert set(row) == CLEAR_OK | SEALED, f"columns of patterns: {sorted(row)}"
    assert unsealed(row, CLEAR_OK) == {}, f"readable pattern columns: {unsealed(row, CLEAR_OK)}"
    assert all(row[c] is not None for c in SEALED), row


def test_saved_patterns_are_sealed_at_rest(fresh_database, server_factory, tmp_path, backend):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    srv = server_factory.start(data_dir=str(data_dir), database=fresh_database)
    acc = create_account(srv, outbox(srv), "sealpat")
    values = bust_body()
    values["chest"] = 1011.75
    m = create_model(srv, acc, "UniqueModelName31", True, values)
    p = save_pattern(srv, acc, m["id"], "bodice", "UniquePatternName42", notes="UniquePatternNotes53",
                     options={"sa": 17.25, "paper": "letter"})
    needles = {
        "the pattern name": b"UniquePatternName42",
        "the notes": b"UniquePatternNotes53",
        "the model name in the snapshot": b"UniqueModelName31",
        "a measurement of the snapshot": b"1011.75",
        "the design (it tells the breasts flag)": b"bodice",
        "the seam allowance": b"17.25",
        "the paper": b"letter",
    }
    blob, where = stored(srv, backend)
    assert p["id"].encode() in blob, f"the pattern id is not in {where}: the check reads nothing"
    assert_absent(blob, needles, where, backend)
    assert_row_sealed(srv, backend, p["id"])

    # Changed and refreshed: the new values are sealed, the old ones gone.
    r = srv.request("PATCH", pattern_path(p["id"]), headers=acc.auth,
                    json={"name": "UniqueRenamed64", "notes": "UniqueNotes75", "options": {"sa": 23.5}})
    assert r.status_code == 200, r.text
    assert patch(srv, acc, m["id"], {"name": "UniqueModelRenamed86", "measurements": {"chest": 1022.25}}
                 ).status_code == 200
    assert refresh(srv, acc, p["id"]).status_code == 200
    needles.update({"the new name": b"UniqueRenamed64", "the new notes": b"UniqueNotes75",
                    "the new model name": b"UniqueModelRenamed86", "the new value": b"1022.25",
                    "the new seam allowance": b"23.5"})
    blob, where = stored(srv, backend)
    assert p["id"].encode() in blob
    assert_absent(blob, needles, where, backend)
    assert_row_sealed(srv, backend, p["id"])

    # Deleted: on SQLite not even its id lingers once the WAL is checkpointed.
    other = save_pattern(srv, acc, m["id"], "trouser", "UniqueDoomed97")
    assert srv.request("DELETE", pattern_path(other["id"]), headers=acc.auth).status_code == 204
    if backend == "sqlite":
        assert srv.stop() is None
        blob = sqlite_files_bytes(str(data_dir))
        assert p["id"].encode() in blob
        assert_absent(blob, needles, "atelier.db after shutdown", backend)
        assert other["id"].encode() not in blob, "the deleted pattern's row lingers in atelier.db"
        assert b"UniqueDoomed97" not in blob
