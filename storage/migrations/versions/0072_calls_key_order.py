"""calls: the unique key leads with the call's keyed hash, so looking a batch's calls up by it
uses the index whatever the planner knows about the table (issue 20)

Revision ID: 0072
Revises: 0071
Create Date: 2026-12-06 03:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0072"
down_revision: str | None = "0071"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint("uq_calls_provider_call", type_="unique")
        batch_op.create_unique_constraint("uq_calls_call_provider", ["call_id", "provider"])


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint("uq_calls_call_provider", type_="unique")
        batch_op.create_unique_constraint("uq_calls_provider_call", ["provider", "call_id"])
