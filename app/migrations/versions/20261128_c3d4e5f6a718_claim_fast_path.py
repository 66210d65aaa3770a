"""claims: on PostgreSQL a claim is written by one statement

Revision ID: c3d4e5f6a718
Revises: b7e1c2d3f405
Create Date: 2026-11-28 22:00:00

`kitrun_submit_claim` (called by app/claims/submit.py for roster and manual checks) takes the
claim row as JSON, exactly as the Python path would insert it, and in one statement: takes a
place in its slot (conditional update; SQLSTATE KR002 when full), reserves a kit first-expired-
first-out at the claim's location with a conditional update of the level row, or waitlists the
claim (also when waitlisted claims are already queued there: they come first), then inserts the
claim with its final status and its events, and the ledger's `reserve` movement. The partial
unique index on live claims refuses a second one (unique violation: everything is undone).
The claim row is built as `claim` rowtype, so the function follows the table's columns; a change
of the allocation rules must be made here and in `claims._submit` alike.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c3d4e5f6a718"
down_revision: str | None = "b7e1c2d3f405"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUBMIT = """
CREATE FUNCTION kitrun_submit_claim(
    p_claim json, p_events json, p_reserve boolean, p_allocated json, p_waitlisted json,
    p_now timestamptz
) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    c claim;
    v_lot integer;
    v_movement integer;
    v_last_status varchar;
BEGIN
    c := json_populate_record(NULL::claim, p_claim);
    c.id := nextval(pg_get_serial_sequence('claim', 'id'));
    IF c.slot_id IS NOT NULL THEN
        UPDATE pickup_slot SET booked = booked + 1 WHERE id = c.slot_id AND booked < capacity;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'time slot full' USING ERRCODE = 'KR002';
        END IF;
    END IF;
    v_last_status := c.status;
    IF p_reserve THEN
        -- Claims already waiting here come first (minors first, then by time).
        IF NOT EXISTS (
            SELECT 1 FROM claim WHERE status = 'waitlisted'
               AND reserved_location_id = c.reserved_location_id
               AND reserved_item_id = c.reserved_item_id
        ) THEN
            FOR v_lot IN
                SELECT sl.lot_id FROM stock_level sl JOIN lot ON lot.id = sl.lot_id
                 WHERE sl.item_id = c.reserved_item_id
                   AND sl.location_id = c.reserved_location_id
                   AND sl.on_hand - sl.reserved >= c.kits
                 ORDER BY lot.expiry IS NULL, lot.expiry, lot.id
            LOOP
                UPDATE stock_level SET reserved = reserved + c.kits
                 WHERE item_id = c.reserved_item_id AND lot_id = v_lot
                   AND location_id = c.reserved_location_id
                   AND on_hand - (reserved + c.kits) >= 0;
                IF FOUND THEN
                    c.status := 'allocated';
                    c.reserved_lot_id := v_lot;
                    c.allocated_at := p_now;
                    c.reasons := (c.reasons::jsonb || p_allocated::jsonb)::json;
                    EXIT;
                END IF;
            END LOOP;
        END IF;
        IF c.status <> 'allocated' THEN
            c.status := 'waitlisted';
            c.reasons := (c.reasons::jsonb || p_waitlisted::jsonb)::json;
        END IF;
    END IF;
    INSERT INTO claim VALUES (c.*);
    INSERT INTO claim_event (claim_id, at, user_id, from_status, to_status, reasons, note)
    SELECT c.id, p_now, NULL, e.value->>'from_status', e.value->>'to_status',
           e.value->'reasons', ''
      FROM json_array_elements(p_events) WITH ORDINALITY AS e(value, n) ORDER BY e.n;
    IF p_reserve THEN
        INSERT INTO claim_event (claim_id, at, user_id, from_status, to_status, reasons, note)
        VALUES (c.id, p_now, NULL, v_last_status, c.status,
                CASE WHEN c.status = 'allocated' THEN p_allocated ELSE p_waitlisted END, '');
    END IF;
    IF c.status = 'allocated' THEN
        INSERT INTO stock_movement (kind, reason, note, reference, user_id, created_at)
        VALUES ('reserve', NULL, '', 'claim:' || c.id, NULL, p_now)
        RETURNING id INTO v_movement;
        INSERT INTO stock_entry (movement_id, item_id, lot_id, location_id, on_hand_delta,
                                 reserved_delta)
        VALUES (v_movement, c.reserved_item_id, c.reserved_lot_id, c.reserved_location_id,
                0, c.kits);
    END IF;
    RETURN json_build_object('id', c.id, 'status', c.status, 'lot_id', c.reserved_lot_id);
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SUBMIT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS kitrun_submit_claim(json, json, boolean, json, json, "
            "timestamptz)"
        )
