"""teams: where to reach each person in Microsoft Teams (conversation references)

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-23 10:27:34.839723
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

import storage.types  # noqa: F401

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("aad_object_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("teams_user_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("upn", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("conversation_id", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("service_url", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("home_activity_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("home_requested", sa.Boolean(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("aad_object_id"),
    )
    with op.batch_alter_table("teams_conversations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_teams_conversations_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_teams_conversations_email"), ["email"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_teams_conversations_teams_user_id"), ["teams_user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("teams_conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_conversations_teams_user_id"))
        batch_op.drop_index(batch_op.f("ix_teams_conversations_email"))
        batch_op.drop_index(batch_op.f("ix_teams_conversations_conversation_id"))

    op.drop_table("teams_conversations")
