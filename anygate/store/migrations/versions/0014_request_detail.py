"""A call's detail for the dashboard: the error it ended with, its timings, its failed attempts; and
an index to look a call up by its request id.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(sa.Column("error", sa.String(500), nullable=True))
        batch.add_column(sa.Column("upstream_ms", sa.Float, nullable=True))
        batch.add_column(sa.Column("first_byte_ms", sa.Float, nullable=True))
        batch.add_column(sa.Column("failures", sa.Text, nullable=True))
    op.create_index("ix_usage_request", "usage_records", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_usage_request", "usage_records")
    with op.batch_alter_table("usage_records") as batch:
        for column in ("failures", "first_byte_ms", "upstream_ms", "error"):
            batch.drop_column(column)
