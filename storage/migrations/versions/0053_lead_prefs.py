"""lead_prefs: a team lead's switch for the daily thanks nudge (issue 16)

Revision ID: 0053
Revises: 0070
Create Date: 2026-12-05 08:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0053"
down_revision: str | None = "0070"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lead_prefs",
        sa.Column("person_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("thanks_off", sa.Boolean(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_key"),
    )


def downgrade() -> None:
    op.drop_table("lead_prefs")
