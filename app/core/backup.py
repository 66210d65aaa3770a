"""Backups of the database and their restore: `pg_dump -Fc` / `pg_restore` on PostgreSQL, the
online backup API on SQLite. A backup is written under a temporary name and renamed when it is
complete; a restore refuses to replace a database that holds data unless forced, and refuses a
backup made by a kitrun whose migrations this code does not know."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.request import pathname2url

from alembic.script import ScriptDirectory
from psycopg.conninfo import make_conninfo
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import models  # noqa: F401  (every table in the metadata: what "holds data" looks at)
from app.core.config import Settings
from app.migrate import alembic_config

PG_CLIENT_HINT = (
    "install the PostgreSQL client tools, the server's major version or newer "
    "(Debian/Ubuntu: apt-get install postgresql-client)"
)
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class Restored:
    revision: str
    head: str

    @property
    def behind(self) -> bool:
        return self.revision != self.head


def default_dir(settings: Settings) -> Path:
    return settings.data_dir / "backups"


def backup(settings: Settings, *, out: Path | None = None) -> Path:
    """Write a consistent backup of the configured database while the app runs; its path.

    `out`: a file, or a directory for the default name (default: KITRUN_DATA_DIR/backups)."""
    suffix = ".sqlite" if settings.is_sqlite else ".dump"
    if out is None or out.is_dir():
        directory = out or default_dir(settings)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = _fresh_name(directory, suffix)
    else:
        target = out
        if not target.parent.is_dir():
            raise BackupError(f"directory {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.partial")
    try:
        if settings.is_sqlite:
            _sqlite_backup(_sqlite_path(settings), partial)
        else:
            _pg_dump(settings.sqlalchemy_url, partial)
        partial.chmod(0o600)  # students' personal data: readable by the app's user only
        _fsync(partial)
        os.replace(partial, target)
        _fsync(target.parent)
    finally:
        partial.unlink(missing_ok=True)
    return target


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups with kitrun's default names in `directory`."""
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    found = [p for p in directory.glob("kitrun-*") if p.suffix in (".dump", ".sqlite")]
    found.sort(key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    for old in found[keep:]:
        old.unlink()
    return found[keep:]


def holding_data(settings: Settings) -> list[str]:
    """The app's tables that hold at least one row in the configured database (none: empty)."""
    url = settings.sqlalchemy_url
    if settings.is_sqlite and not _sqlite_path(settings).exists():
        return []
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
            return [
                t.name
                for t in SQLModel.metadata.sorted_tables
                if t.name in present
                and conn.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{t.name}")')).scalar()
            ]
    except DBAPIError as exc:  # told plainly: e.g. the database does not exist (createdb it)
        raise BackupError(f"cannot read the database {_safe(url)}: {exc.orig}") from exc
    finally:
        engine.dispose()


def restore(settings: Settings, path: Path, *, force: bool = False) -> Restored:
    """Replace the configured database by the backup at `path`.

    Refuses when the database holds data (unless `force`) and when the backup's migration
    revision is unknown to this code; on PostgreSQL the restore is one transaction."""
    kind = _kind(path)
    expected = "sqlite" if settings.is_sqlite else "postgresql"
    if kind != expected:
        raise BackupError(
            f"{path} is a {_NAMES[kind]} backup but the configured database is {_NAMES[expected]}"
        )
    known, head = _revisions(settings.sqlalchemy_url)
    revision = _sqlite_revision(path) if kind == "sqlite" else _dump_revision(path)
    _check_known(revision, known, f"the backup {path}")
    tables = holding_data(settings)
    if tables and not force:
        shown = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
        raise BackupError(
            f"the database {_safe(settings.sqlalchemy_url)} is not empty ({shown} hold rows); "
            "a restore would replace all of it: add --force to do so"
        )
    if kind == "sqlite":
        _sqlite_restore(path, _sqlite_path(settings))  # the whole file is replaced
    else:
        current = _database_revision(settings.sqlalchemy_url)
        if current is not None and current != revision:
            # pg_restore --clean drops only what the dump holds: the tables and columns of the
            # other revision would stay behind and break the next migration
            raise BackupError(
                f"the database is at migration revision {current}, the backup at {revision}: "
                "restore into a new empty database (createdb), or drop and create this one first"
            )
        _pg_restore(path, settings.sqlalchemy_url)
    restored = _database_revision(settings.sqlalchemy_url)
    _check_known(restored, known, "the restored database")
    return Restored(revision=restored or "", head=head)


# ---------------------------------------------------------------- SQLite


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.sqlalchemy_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"cannot back up or restore {settings.sqlalchemy_url}: not a file")
    return Path(database)


def _sqlite_backup(source: Path, partial: Path) -> None:
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    src = sqlite3.connect(source, timeout=60)
    dst = sqlite3.connect(partial)
    try:
        # One step: a single read transaction, so the copy is one consistent snapshot; in WAL
        # mode the app's writers go on meanwhile (a stepwise copy would restart at each write).
        src.backup(dst)
        # one self-contained file (no -wal beside it), checked before it takes the final name
        dst.execute("PRAGMA journal_mode=DELETE")
        result = dst.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"the backup failed its integrity check: {result}")
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup of {source} failed: {exc}") from exc
    finally:
        dst.close()
        src.close()


def _sqlite_restore(backup_file: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = _sqlite_readonly(backup_file)
    dst = sqlite3.connect(target, timeout=60)
    try:
        src.backup(dst)  # one step, under the target's write lock: the app sees old or new
        dst.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite restore into {target} failed: {exc}") from exc
    finally:
        dst.close()
        src.close()


def _sqlite_readonly(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{pathname2url(str(path.resolve()))}?mode=ro", uri=True)


def _sqlite_revision(path: Path) -> str | None:
    conn = _sqlite_readonly(path)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} is not a kitrun backup: {exc}") from exc
    finally:
        conn.close()
    return row[0] if row else None


# ---------------------------------------------------------------- PostgreSQL


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: {PG_CLIENT_HINT}")
    return found


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the URL, and the environment carrying its password (never
    on a command line, where any user of the host can read it)."""
    u: URL = make_url(url)
    params = {"host": u.host, "port": u.port, "user": u.username, "dbname": u.database}
    params.update({k: v for k, v in u.query.items() if isinstance(v, str)})
    conninfo = make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})
    env = dict(os.environ)
    if u.password is not None:
        env["PGPASSWORD"] = str(u.password)
    return conninfo, env


def _run(args: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        detail = "\n".join(proc.stderr.strip().splitlines()[-8:]) or f"exit {proc.returncode}"
        raise BackupError(f"{what} failed:\n{detail}")
    return proc


def _pg_dump(url: str, partial: Path) -> None:
    conninfo, env = _libpq(url)
    dump = _pg_tool("pg_dump")
    _run([dump, "-Fc", "--no-owner", "-f", str(partial), "--dbname", conninfo], env, "pg_dump")
    # the archive's table of contents must read back before the file takes its final name
    _run([_pg_tool("pg_restore"), "--list", str(partial)], env, "reading the dump back")


def _pg_restore(path: Path, url: str) -> None:
    conninfo, env = _libpq(url)
    _run(
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            # all or nothing: a restore that fails half-way leaves the database as it was
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            conninfo,
            str(path),
        ],
        env,
        "pg_restore",
    )


def _dump_revision(path: Path) -> str | None:
    proc = _run(
        [
            _pg_tool("pg_restore"),
            "--data-only",
            "--table=alembic_version",
            "-f",
            "-",
            str(path),
        ],
        dict(os.environ),
        f"reading {path}",
    )
    lines = proc.stdout.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line:
            value = lines[i + 1].strip() if i + 1 < len(lines) else "\\."
            return None if value == "\\." else value
    return None


# ---------------------------------------------------------------- common


_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _kind(path: Path) -> str:
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from exc
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is neither a kitrun SQLite backup nor a pg_dump -Fc archive")


def _revisions(url: str) -> tuple[set[str], str]:
    scripts = ScriptDirectory.from_config(alembic_config(url))
    return {s.revision for s in scripts.walk_revisions()}, scripts.get_current_head() or ""


def _check_known(revision: str | None, known: set[str], what: str) -> None:
    if revision is None:
        raise BackupError(f"{what} has no migration revision (alembic_version): not a kitrun one")
    if revision not in known:
        raise BackupError(
            f"{what} is at migration revision {revision}, which this kitrun does not know "
            "(a newer version made it): restore it with the kitrun version that made it"
        )


def _database_revision(url: str) -> str | None:
    """The database's migration revision; None when it has no alembic_version table."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def _fresh_name(directory: Path, suffix: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"kitrun-{stamp}{suffix}"
    n = 1
    while path.exists():
        path = directory / f"kitrun-{stamp}-{n}{suffix}"
        n += 1
    return path


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
