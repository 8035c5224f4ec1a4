"""report_pieces: finished days' report figures, so month reports sum days

Revision ID: 0017
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_pieces",
        sa.Column("zone", sa.String(length=64), primary_key=True),
        sa.Column("interval", sa.String(length=8), primary_key=True),
        sa.Column("day", sa.String(length=10), primary_key=True),
        sa.Column("rules", sa.String(length=64), primary_key=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report_pieces")
