"""Responses API responses kept for previous_response_id and retrieval.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stored_responses",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("input_items", sa.Text, nullable=False),
        sa.Column("response", sa.Text, nullable=False),
    )
    op.create_index("ix_stored_responses_key", "stored_responses", ["key_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_stored_responses_key", "stored_responses")
    op.drop_table("stored_responses")
