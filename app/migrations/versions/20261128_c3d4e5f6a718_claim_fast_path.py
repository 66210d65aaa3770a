"""claims: on PostgreSQL a claim is written by one statement

Revision ID: c3d4e5f6a718
Revises: b7e1c2d3f405
Create Date: 2026-11-28 22:00:00

`kitrun_submit_claim` (its text in app/claims/submit_sql.py; called by app/claims/submit.py) takes the
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

from app.claims.submit_sql import SUBMIT_CLAIM_V1 as SUBMIT

revision: str = "c3d4e5f6a718"
down_revision: str | None = "b7e1c2d3f405"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SUBMIT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS kitrun_submit_claim(json, json, boolean, json, json, "
            "timestamptz)"
        )
