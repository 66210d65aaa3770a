"""A claim's write in PL/pgSQL: `kitrun_submit_claim`, the PostgreSQL form of the allocation
in app/claims/submit.py (`_submit` and the ledger's reserve), which SQLite uses. In one
statement it takes a place in the claim's slot (SQLSTATE KR002 when full), reserves a kit
first-expired-first-out with a conditional update of the level row or waitlists the claim
(behind claims already waiting there), inserts the claim with its final status and events, and
the `reserve` movement. A change of the allocation rules is made here and in submit.py alike;
the parity tests (tests/claims/) hold them together.

Migration c3d4e5f6a718 installs `SUBMIT_CLAIM_V1`. The function text is versioned: a change is
a new constant (`SUBMIT_CLAIM_V2`, `CREATE OR REPLACE FUNCTION`) installed by a new migration.
"""

SUBMIT_CLAIM_V1 = """
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
