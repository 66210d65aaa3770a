"""Apply Alembic migrations programmatically (CLI, tests, start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def append_only(op, table: str) -> None:  # noqa: ANN001
    """Make a table append-only in the database itself: updates and deletes are refused."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def drop_append_only(op, table: str) -> None:  # noqa: ANN001
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")


def append_only_redactable(op, table: str, redactable: tuple[str, ...]) -> None:  # noqa: ANN001
    """Like append_only, except that the `redactable` (free-text) columns of a row may be
    changed while a `redaction_permit` row names it (an erasure inserts the permit, redacts
    and deletes the permit in one transaction); every other column, and deletes, stay refused.
    Replaces the table's append_only triggers."""
    drop_append_only(op, table)
    bind = op.get_bind()
    permit = (
        f"EXISTS (SELECT 1 FROM redaction_permit WHERE table_name = '{table}' AND row_id = OLD.id)"
    )
    if bind.dialect.name == "postgresql":
        kept = "ARRAY[" + ", ".join(f"'{c}'" for c in redactable) + "]"
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF TG_OP = 'UPDATE' AND {permit} "
            f"AND (to_jsonb(NEW) - {kept}) = (to_jsonb(OLD) - {kept}) THEN RETURN NEW; END IF; "
            f"RAISE EXCEPTION '{table} is append-only'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
        return
    import sqlalchemy as sa

    fixed = [c["name"] for c in sa.inspect(bind).get_columns(table) if c["name"] not in redactable]
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in fixed)
    op.execute(
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"WHEN NOT {permit} OR {changed} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
    )
