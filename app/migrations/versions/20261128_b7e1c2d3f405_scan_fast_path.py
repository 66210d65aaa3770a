"""scans: record nonce-reused attempts; PostgreSQL hand-over in one statement

Revision ID: b7e1c2d3f405
Revises: ad21f372cb27
Create Date: 2026-11-28 21:00:00

The scan log keeps every attempt, so a nonce reused with another code is stored too: the
(user, nonce) uniqueness that makes retries idempotent now excludes those rows.

On PostgreSQL the winning hand-over runs as one function call (`kitrun_hand_over`, its text in
app/pickup/handover_sql.py beside the Python form in app/pickup/handover.py): row lock and status check of the claim, claim event, audit entry, ledger
`issue` movement and entry, scan row and, last, the conditional update of the shared level row,
all inside one statement sent in autocommit, so no lock is held across a round trip.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.migrate import append_only, drop_append_only
from app.pickup.handover_sql import HAND_OVER_V1 as HAND_OVER

revision: str = "b7e1c2d3f405"
down_revision: str | None = "ad21f372cb27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scan", schema=None) as batch_op:
        batch_op.drop_constraint("uq_scan_user_id", type_="unique")
        batch_op.create_index(
            "uq_scan_user_nonce",
            ["user_id", "nonce"],
            unique=True,
            postgresql_where=sa.text("result <> 'nonce_reused'"),
            sqlite_where=sa.text("result <> 'nonce_reused'"),
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(HAND_OVER)
    else:
        _restore_append_only()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS kitrun_hand_over(integer, integer, integer, timestamptz, "
            "timestamptz, varchar, varchar, timestamptz, json, json)"
        )
    with op.batch_alter_table("scan", schema=None) as batch_op:
        batch_op.drop_index("uq_scan_user_nonce")
        # Fails if nonce-reused attempts were recorded: the old constraint cannot hold them.
        batch_op.create_unique_constraint("uq_scan_user_id", ["user_id", "nonce"])
    if op.get_bind().dialect.name != "postgresql":
        _restore_append_only()


def _restore_append_only() -> None:
    # SQLite rebuilds the table to change its constraints, which drops its triggers.
    drop_append_only(op, "scan")
    append_only(op, "scan")
