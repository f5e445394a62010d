"""Objects an upstream hands out (files, batches, assistants, threads) belong to the key that created them.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_objects",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("provider", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_upstream_objects_key", "upstream_objects", ["key_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_upstream_objects_key", "upstream_objects")
    op.drop_table("upstream_objects")
