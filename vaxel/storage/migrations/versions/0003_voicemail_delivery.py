"""voicemail delivery: mailbox, recipient and mail status per message

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voicemails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("b_number", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("agent", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("recipient", sa.String(length=256), nullable=True))
        batch_op.add_column(
            sa.Column("mail_status", sa.String(length=16), nullable=False, server_default="none")
        )
        batch_op.add_column(
            sa.Column("mail_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("mail_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_voicemails_created_at", ["created_at"])


def downgrade() -> None:
    with op.batch_alter_table("voicemails", schema=None) as batch_op:
        batch_op.drop_index("ix_voicemails_created_at")
        for column in (
            "mailed_at",
            "mail_error",
            "mail_attempts",
            "mail_status",
            "recipient",
            "agent",
            "b_number",
        ):
            batch_op.drop_column(column)
