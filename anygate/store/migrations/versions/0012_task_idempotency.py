"""A task remembers the client's Idempotency-Key, so that a retried create returns the first task.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(255), nullable=True))
    op.create_index("ix_tasks_idempotency", "tasks", ["key_id", "idempotency_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_tasks_idempotency", "tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("idempotency_key")
