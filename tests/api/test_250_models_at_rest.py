"""Models sealed at rest (SPEC section 1 "At rest"): model names, notes,
measurements and avatars never appear in clear in the database, on SQLite
(atelier.db and its -wal/-shm) or PostgreSQL (the raw tables as psql shows
them, and their COPY dumps)."""

import pg_helpers
from accounts_helpers import create_account, hex_forms, outbox, pg_dump_bytes, sqlite_files_bytes
from models_helpers import create_model, get_avatar, get_model, image_fixture, model_path, patch, put_avatar
from sealed_helpers import raw_row, unsealed

NAME = "UniqueModelName77"
NOTES = "UniqueNotes88"
VALUE = 1234.5  # chest; searched as its JSON text "1234.5"
RENAMED = "UniqueRenamed55"
VALUE2 = 987.25  # waist after a PATCH


def psql_select(url, sql):
    """The rows of sql as text, each value in PostgreSQL's text form."""
    return pg_helpers.psql(url, sql).encode("utf-8")


def stored(srv, backend):
    """(bytes to search, description); on PostgreSQL the text output of
    SELECT * on the model tables plus every table's COPY dumps."""
    if backend == "postgres":
        blob = psql_select(srv.database_url, "SELECT * FROM models")
        blob += psql_select(srv.database_url, "SELECT * FROM model_avatars")
        blob += pg_dump_bytes(srv.database_url)
        return blob, "the PostgreSQL tables"
    return sqlite_files_bytes(srv.data_dir), "atelier.db/-wal/-shm"


def assert_absent(blob, needles, where, backend):
    for label, needle in needles.items():
        forms = hex_forms(needle) if backend == "postgres" else [needle]
        for form in forms:
            assert form not in blob, f"{label} ({needle[:40]!r}) is readable in {where}"


def test_model_data_is_sealed_at_rest(fresh_database, server_factory, tmp_path, backend):
    # fresh_database first, so that it is dropped after the server stops.
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    srv = server_factory.start(data_dir=str(data_dir), database=fresh_database)
    acc = create_account(srv, outbox(srv), "atrest")

    m = create_model(srv, acc, NAME, True, {"chest": VALUE, "neck": 340, "bustSpan": 161.75}, NOTES)
    assert m["measurements"]["chest"] == VALUE
    r = put_avatar(srv, acc.token, m["id"], image_fixture("photo.jpg"), "image/jpeg")
    assert r.status_code == 200, r.text
    avatar = get_avatar(srv, acc.token, m["id"]).content
    mid = len(avatar) // 2
    needles = {
        "the model name": NAME.encode(),
        "the notes": NOTES.encode(),
        "the measurement value": b"1234.5",
        "the measurement as JSON": b'"chest":1234.5',
        "another measurement value": b"161.75",
        "32 bytes of the avatar": avatar[mid: mid + 32],
        "the avatar's first 32 bytes": avatar[:32],
    }
    assert len(needles["32 bytes of the avatar"]) == 32

    blob, where = stored(srv, backend)
    # Control: the dump does hold the model row (its id is stored in clear).
    assert m["id"].encode() in blob, f"the model id is not in {where}: the check reads nothing"
    assert_absent(blob, needles, where, backend)

    # Changed values are sealed too, and the old ones do not linger.
    r = patch(srv, acc, m["id"], {"name": RENAMED, "measurements": {"waist": VALUE2}})
    assert r.status_code == 200, r.text
    needles["the new name"] = RENAMED.encode()
    needles["the new value"] = b"987.25"
    blob, where = stored(srv, backend)
    assert m["id"].encode() in blob
    assert_absent(blob, needles, where, backend)

    if backend == "sqlite":
        # Stopped cleanly, the WAL is checkpointed into the main file: check again.
        assert srv.stop() is None
        blob = sqlite_files_bytes(str(data_dir))
        assert m["id"].encode() in blob
        assert_absent(blob, needles, "atelier.db after shutdown", backend)


def test_deleted_model_leaves_no_clear_text(fresh_database, server_factory, tmp_path, backend):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    srv = server_factory.start(data_dir=str(data_dir), database=fresh_database)
    acc = create_account(srv, outbox(srv), "atrest2")
    m = create_model(srv, acc, NAME + "Deleted", True, {"chest": 1111.5}, NOTES + "Deleted")
    assert put_avatar(srv, acc.token, m["id"], image_fixture("small.jpg"), "image/jpeg").status_code == 200
    assert srv.request("DELETE", model_path(m["id"]), headers=acc.auth).status_code == 204
    blob, where = stored(srv, backend)
    assert acc.id.encode() in blob, f"the account id is not in {where}: the check reads nothing"
    assert_absent(blob, {"name": (NAME + "Deleted").encode(), "notes": (NOTES + "Deleted").encode(),
                         "value": b"1111.5"}, where, backend)
    if backend == "sqlite":
        # secure_delete: not even the model id of the erased row lingers.
        assert srv.stop() is None
        blob = sqlite_files_bytes(str(data_dir))
        assert m["id"].encode() not in blob, "the deleted model's row lingers in atelier.db"


def test_breasts_flag_is_sealed(fresh_database, server_factory, tmp_path, backend):
    """Issue 12: the has-breasts flag is model data, sealed like the rest: no
    column of a model's row holds anything readable but its id, owner and
    times, and the flag still comes back right (also after a change)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    srv = server_factory.start(data_dir=str(data_dir), database=fresh_database)
    acc = create_account(srv, outbox(srv), "atrest3")
    clear_ok = {"id", "account_id", "created_at", "updated_at"}
    with_b = create_model(srv, acc, "With", True, {"chest": 900, "neck": 340})
    without = create_model(srv, acc, "Without", False, {"chest": 1000, "neck": 380})
    for m in (with_b, without):
        row = raw_row(srv, backend, "models", "id", m["id"])
        assert row is not None, "the check reads nothing"
        assert "breasts" not in row, f"models.breasts is a clear column: {sorted(row)}"
        assert unsealed(row, clear_ok) == {}, f"readable model columns: {unsealed(row, clear_ok)}"
    r = patch(srv, acc, without["id"], {"breasts": True})
    assert r.status_code == 200, r.text
    assert get_model(srv, acc, with_b["id"])["breasts"] is True
    assert get_model(srv, acc, without["id"])["breasts"] is True
    row = raw_row(srv, backend, "models", "id", without["id"])
    assert unsealed(row, clear_ok) == {}
