"""recovery: protected breaks (restored by the break worker) and talk-to-someone requests

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-23 09:28:41.618563
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

import storage.types  # noqa: F401

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "breaks",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("request_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("pseudonym", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kid", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("minutes", sa.Float(), nullable=False),
        sa.Column("requested_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("phone_user_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("previous_status", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("break_status", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("message_channel", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("message_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_key"),
    )
    with op.batch_alter_table("breaks", schema=None) as batch_op:
        batch_op.create_index("ix_breaks_due", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_breaks_pseudonym_requested", ["pseudonym", "requested_at"], unique=False)
        batch_op.create_index("ix_breaks_team_requested", ["team_id", "requested_at"], unique=False)

    op.create_table(
        "talk_requests",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("request_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("pseudonym", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kid", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_key"),
    )
    with op.batch_alter_table("talk_requests", schema=None) as batch_op:
        batch_op.create_index("ix_talk_requests_team_created", ["team_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("talk_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_talk_requests_team_created")

    op.drop_table("talk_requests")
    with op.batch_alter_table("breaks", schema=None) as batch_op:
        batch_op.drop_index("ix_breaks_team_requested")
        batch_op.drop_index("ix_breaks_pseudonym_requested")
        batch_op.drop_index("ix_breaks_due")

    op.drop_table("breaks")
