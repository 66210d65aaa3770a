"""scans: record nonce-reused attempts; PostgreSQL hand-over in one statement

Revision ID: b7e1c2d3f405
Revises: ad21f372cb27
Create Date: 2026-11-28 21:00:00

The scan log keeps every attempt, so a nonce reused with another code is stored too: the
(user, nonce) uniqueness that makes retries idempotent now excludes those rows.

On PostgreSQL the winning hand-over runs as one function call (app/pickup/handover.py,
`kitrun_hand_over`): row lock and status check of the claim, claim event, audit entry, ledger
`issue` movement and entry, scan row and, last, the conditional update of the shared level row,
all inside one statement sent in autocommit, so no lock is held across a round trip.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.migrate import append_only, drop_append_only

revision: str = "b7e1c2d3f405"
down_revision: str | None = "ad21f372cb27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HAND_OVER = """
CREATE FUNCTION kitrun_hand_over(
    p_claim_id integer, p_location_id integer, p_user_id integer, p_at timestamptz,
    p_now timestamptz, p_code_hash varchar, p_nonce varchar, p_scanned_at timestamptz,
    p_response json, p_audit_after json
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    c record;
    v_movement integer;
BEGIN
    -- The claim's row lock decides which of several simultaneous scans hands the kit over.
    SELECT status, kits, reserved_item_id, reserved_lot_id, reserved_location_id
      INTO c FROM claim WHERE id = p_claim_id FOR UPDATE;
    IF NOT FOUND OR c.status NOT IN ('allocated', 'ready')
       OR c.reserved_location_id IS DISTINCT FROM p_location_id
       OR c.reserved_lot_id IS NULL THEN
        RETURN 'lost';
    END IF;
    UPDATE claim SET status = 'handed_over', handed_over_at = p_at,
           handed_over_by = p_user_id, handed_over_location_id = c.reserved_location_id,
           updated_at = p_now
     WHERE id = p_claim_id;
    INSERT INTO claim_event (claim_id, at, user_id, from_status, to_status, reasons, note)
    VALUES (p_claim_id, p_now, p_user_id, c.status, 'handed_over', '["scanned"]', '');
    INSERT INTO audit_entry (at, user_id, action, object_type, object_id, before, after)
    VALUES (p_now, p_user_id, 'claim.handover', 'claim', p_claim_id::text,
            json_build_object('status', c.status), p_audit_after);
    INSERT INTO stock_movement (kind, reason, note, reference, user_id, created_at)
    VALUES ('issue', NULL, '', 'claim:' || p_claim_id, p_user_id, p_now)
    RETURNING id INTO v_movement;
    INSERT INTO stock_entry (movement_id, item_id, lot_id, location_id, on_hand_delta,
                             reserved_delta)
    VALUES (v_movement, c.reserved_item_id, c.reserved_lot_id, c.reserved_location_id,
            -c.kits, -c.kits);
    -- A concurrent retry with the same nonce makes this a unique violation: all is undone.
    INSERT INTO scan (claim_id, code_hash, user_id, location_id, run_stop_id, nonce,
                      scanned_at, received_at, result, response, conflict)
    VALUES (p_claim_id, p_code_hash, p_user_id, p_location_id, NULL, p_nonce,
            p_scanned_at, p_now, 'ok', p_response, false);
    -- Last: every kit at a point shares this row, so its lock is held for the least time.
    UPDATE stock_level SET on_hand = on_hand - c.kits, reserved = reserved - c.kits
     WHERE item_id = c.reserved_item_id AND lot_id = c.reserved_lot_id
       AND location_id = c.reserved_location_id
       AND on_hand - c.kits >= 0 AND reserved - c.kits >= 0
       AND (on_hand - c.kits) - (reserved - c.kits) >= 0;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'reserved kit missing from stock level' USING ERRCODE = 'KR001';
    END IF;
    RETURN 'ok';
END $$
"""


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
