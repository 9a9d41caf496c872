"""coffee pairs: agent_prefs.pairing, pairing_skip and pairings (issue 16)

Revision ID: 0052
Revises: 0051
Create Date: 2026-12-05 07:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0052"
down_revision: str | None = "0051"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_prefs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pairing", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("pairing_skip", sa.Date(), nullable=True))
    op.create_table(
        "pairings",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("pair_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("pseudonym", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kid", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "week_start", "pseudonym", name="uq_pairings_team_week_person"),
    )
    with op.batch_alter_table("pairings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pairings_pair_id"), ["pair_id"], unique=False)


def downgrade() -> None:
    op.drop_table("pairings")
    with op.batch_alter_table("agent_prefs", schema=None) as batch_op:
        batch_op.drop_column("pairing_skip")
        batch_op.drop_column("pairing")
