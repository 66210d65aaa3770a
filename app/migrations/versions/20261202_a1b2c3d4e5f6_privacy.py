"""privacy: notices per campaign, consent on claims, erasure, who looked, retention

Revision ID: a1b2c3d4e5f6
Revises: 5e1f0c2a9b47
Create Date: 2026-12-02 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.campaigns.notices import default_texts
from app.migrate import append_only, append_only_redactable, drop_append_only

revision: str = "a1b2c3d4e5f6"
down_revision: str | None = "5e1f0c2a9b47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REDACTABLE = {
    "claim_event": ("note", "reasons"),
    "audit_entry": ("before", "after"),
    "scan": ("response",),
}


def upgrade() -> None:
    op.create_table(
        "privacy_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text_zh", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name="fk_privacy_notice_campaign_id_campaign"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name="fk_privacy_notice_user_id_user"),
        sa.PrimaryKeyConstraint("id", name="pk_privacy_notice"),
        sa.UniqueConstraint("campaign_id", "version", name="uq_privacy_notice_campaign_id"),
    )
    op.create_table(
        "personal_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("fields", sa.String(length=40), nullable=False),
        sa.Column("context", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], name="fk_personal_view_claim_id_claim"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name="fk_personal_view_user_id_user"),
        sa.PrimaryKeyConstraint("id", name="pk_personal_view"),
    )
    op.create_index("ix_personal_view_at", "personal_view", ["at"])
    op.create_index("ix_personal_view_claim", "personal_view", ["claim_id", "at"])
    op.create_table(
        "redaction_permit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_redaction_permit"),
        sa.UniqueConstraint("table_name", "row_id", name="uq_redaction_permit_table_name"),
    )

    with op.batch_alter_table("campaign", schema=None) as batch_op:
        for name in ("asks_phone", "asks_wechat", "asks_passport_name"):
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())
            )
        batch_op.add_column(
            sa.Column("retention_days", sa.Integer(), nullable=False, server_default="90")
        )
        batch_op.add_column(
            sa.Column("retention_days_minors", sa.Integer(), nullable=False, server_default="30")
        )
        batch_op.create_check_constraint("retention", "retention_days BETWEEN 0 AND 90")
        batch_op.create_check_constraint(
            "retention_minors", "retention_days_minors <= retention_days"
        )

    # Plain ADD COLUMN on both databases: SQLite keeps the claim table (and its partial index).
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.add_column(
            "claim",
            sa.Column(
                "notice_id",
                sa.Integer(),
                sa.ForeignKey("privacy_notice.id", name="fk_claim_notice_id_privacy_notice"),
                nullable=True,
            ),
        )
    else:
        op.execute("ALTER TABLE claim ADD COLUMN notice_id INTEGER REFERENCES privacy_notice (id)")
    op.add_column("claim", sa.Column("consented_at", sa.DateTime(), nullable=True))
    op.add_column("claim", sa.Column("erased_at", sa.DateTime(), nullable=True))
    for table in ("claim", "roster_entry"):  # an erased student's birth date is gone
        if bind.dialect.name == "postgresql":
            op.alter_column(table, "birth_date", existing_type=sa.Date(), nullable=True)
        else:
            _sqlite_birth_date_nullable(table)

    zh, en = default_texts("The consulate", mission_zh="领馆")
    campaigns = bind.execute(sa.text("SELECT id FROM campaign")).scalars().all()
    for cid in campaigns:
        bind.execute(
            sa.text(
                "INSERT INTO privacy_notice (campaign_id, version, text_zh, text_en, created_at) "
                "VALUES (:c, 1, :zh, :en, CURRENT_TIMESTAMP)"
            ),
            {"c": cid, "zh": zh, "en": en},
        )

    append_only(op, "personal_view")
    for table, columns in REDACTABLE.items():
        append_only_redactable(op, table, columns)


def _sqlite_birth_date_nullable(table: str) -> None:
    """SQLite cannot drop a NOT NULL: rewrite the table's stored definition in place (the
    documented writable_schema procedure, no rebuild, indexes and triggers untouched)."""
    bind = op.get_bind()
    sql = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}
    ).scalar_one()
    new = sql.replace("birth_date DATE NOT NULL", "birth_date DATE")
    if new == sql:  # already nullable (a downgrade's rebuild keeps it so)
        return
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :t"),
        {"sql": new, "t": table},
    )
    bind.execute(sa.text(f"PRAGMA schema_version = {version + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def downgrade() -> None:
    for table in REDACTABLE:
        drop_append_only(op, table)
        append_only(op, table)
    drop_append_only(op, "personal_view")
    op.drop_constraint("fk_claim_notice_id_privacy_notice", "claim", type_="foreignkey") if (
        op.get_bind().dialect.name == "postgresql"
    ) else None
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
        batch_op.drop_column("consented_at")
        batch_op.drop_column("notice_id")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_constraint("retention_minors", type_="check")
        batch_op.drop_constraint("retention", type_="check")
        for name in (
            "retention_days_minors",
            "retention_days",
            "asks_passport_name",
            "asks_wechat",
            "asks_phone",
        ):
            batch_op.drop_column(name)
    op.drop_table("redaction_permit")
    op.drop_index("ix_personal_view_claim", table_name="personal_view")
    op.drop_index("ix_personal_view_at", table_name="personal_view")
    op.drop_table("personal_view")
    op.drop_table("privacy_notice")
