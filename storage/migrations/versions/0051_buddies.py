"""buddies: agent_prefs.buddy and buddy_asks (issue 16)

Revision ID: 0051
Revises: 0030
Create Date: 2026-12-05 07:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0051"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_prefs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("buddy", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "buddy_asks",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("pseudonym", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kid", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "attempt", name="uq_buddy_asks_request_attempt"),
    )
    with op.batch_alter_table("buddy_asks", schema=None) as batch_op:
        batch_op.create_index("ix_buddy_asks_pseudonym_created", ["pseudonym", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_buddy_asks_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    op.drop_table("buddy_asks")
    with op.batch_alter_table("agent_prefs", schema=None) as batch_op:
        batch_op.drop_column("buddy")
