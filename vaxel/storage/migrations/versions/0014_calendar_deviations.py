"""calendar_deviations: deviations added at runtime through the API

Revision ID: 0014
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_deviations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("calendar", sa.String(length=64), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
    )
    op.create_index("ix_calendar_deviations_calendar", "calendar_deviations", ["calendar"])


def downgrade() -> None:
    op.drop_index("ix_calendar_deviations_calendar", table_name="calendar_deviations")
    op.drop_table("calendar_deviations")
