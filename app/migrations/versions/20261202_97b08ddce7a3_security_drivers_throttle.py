"""security: driver accounts, a vehicle's driver account, login throttle

Revision ID: 97b08ddce7a3
Revises: c3d4e5f6a718
Create Date: 2026-12-02 05:42:33

A third role, `driver`, in the role CHECK (on SQLite the user table is rebuilt; env.py turns
foreign keys off around migrations, as SQLite's documented procedure asks, so the rebuild
cascades nothing); `run_vehicle.driver_user_id`, the account that may see and close the
vehicle's stops; `login_throttle`, log-in attempts per (account, address) and per address.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "97b08ddce7a3"
down_revision: str | None = "c3d4e5f6a718"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = "role IN ('diplomat', 'volunteer')"
ROLES = "role IN ('diplomat', 'volunteer', 'driver')"


def _roles(condition: str) -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_user_role"), condition)


def upgrade() -> None:
    _roles(ROLES)
    op.create_table(
        "login_throttle",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.Integer(), nullable=False),
        sa.Column("since", sa.Integer(), nullable=False),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_login_throttle_attempts")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.create_index("ix_login_throttle_since", ["since"], unique=False)

    with op.batch_alter_table("run_vehicle", schema=None) as batch_op:
        batch_op.add_column(sa.Column("driver_user_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_run_vehicle_driver_user_id"), ["driver_user_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_run_vehicle_driver_user_id_user"),
            "user",
            ["driver_user_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    drivers = op.get_bind().execute(sa.text("SELECT count(*) FROM \"user\" WHERE role = 'driver'"))
    if drivers.scalar_one():
        raise RuntimeError(
            "driver accounts exist: deactivate them and change their role before downgrading"
        )
    with op.batch_alter_table("run_vehicle", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_run_vehicle_driver_user_id_user"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_run_vehicle_driver_user_id"))
        batch_op.drop_column("driver_user_id")

    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_index("ix_login_throttle_since")

    op.drop_table("login_throttle")
    _roles(ROLES_BEFORE)
