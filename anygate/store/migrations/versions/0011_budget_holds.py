"""Budget holds: money reserved against a key's budget before an upstream call, released when the call
is settled. A key's `reserved_usd` is the sum of its holds, kept in the same transactions.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_DAY = 86400.0


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("reserved_usd", sa.Float, nullable=False, server_default="0"))
    op.create_table(
        "budget_holds",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("amount_usd", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_budget_holds_expires_at", "budget_holds", ["expires_at"])
    # tasks reserved before holds existed keep their reservation, as a hold named by the task's id
    op.execute(
        "INSERT INTO budget_holds (id, key_id, amount_usd, expires_at) "
        f"SELECT id, key_id, cost_usd, deadline_at + {_DAY} FROM tasks WHERE billing = 'reserved' AND cost_usd > 0"
    )
    op.execute(
        "UPDATE api_keys SET reserved_usd = "
        "(SELECT COALESCE(SUM(amount_usd), 0) FROM budget_holds WHERE budget_holds.key_id = api_keys.id)"
    )


def downgrade() -> None:
    op.drop_table("budget_holds")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("reserved_usd")
