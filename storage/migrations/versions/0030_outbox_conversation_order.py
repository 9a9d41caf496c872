"""outbox: an index for sending each conversation's messages in order

Revision ID: 0030
Revises: 0050
Create Date: 2026-12-05 07:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0030"
down_revision: str | None = "0050"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbox_conversation", "outbox", ["channel_key", "status", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_conversation", table_name="outbox")
