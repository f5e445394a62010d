"""An index on when a response was stored, for purging those past their retention.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_stored_responses_time", "stored_responses", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_stored_responses_time", "stored_responses")
