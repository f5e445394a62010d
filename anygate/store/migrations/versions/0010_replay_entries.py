"""Signatures and thinking kept for replayed tool calls, shared by workers and instances.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replay_entries",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("signature", sa.Text, nullable=True),
        sa.Column("thinking", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_replay_entries_created_at", "replay_entries", ["created_at"])


def downgrade() -> None:
    op.drop_table("replay_entries")
