"""The hand-over in PL/pgSQL: `kitrun_hand_over`, the PostgreSQL form of `hand_over` and
`redeem._write` (app/pickup/handover.py, app/pickup/redeem.py), which SQLite and delivery-run
stops use. Both take the same steps in the same order: row lock and status check of the claim,
claim event, audit entry, the ledger's `issue` movement and entry, the scan row and, last, the
conditional update of the shared level row. A change to one is made to the other, and the
parity tests (tests/pickup/) hold them together.

Migration b7e1c2d3f405 installs `HAND_OVER_V1`. The function text is versioned: a change is a
new constant (`HAND_OVER_V2`, `CREATE OR REPLACE FUNCTION`) installed by a new migration, so an
old migration always installs what it installed the day it was written.
"""

HAND_OVER_V1 = """
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
