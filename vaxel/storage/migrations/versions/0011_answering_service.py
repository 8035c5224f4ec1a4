"""answering service: companies, staff with absence notes, messages taken; voicemail
heard_at (voicemail by phone); token scope (absence-only tokens)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.Column("greeting", sa.String(length=64), nullable=False),
        sa.Column("night_message", sa.String(length=64), nullable=False),
        sa.Column("calendar", sa.String(length=64), nullable=True),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "company_staff",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "company_id",
            sa.String(length=64),
            sa.ForeignKey("companies.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("absence_note", sa.Text(), nullable=True),
        sa.Column("absence_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("absence_redirect", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_company_staff_company_id", "company_staff", ["company_id"])
    op.create_table(
        "staff_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("company_id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("staff_name", sa.String(length=200), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=True),
        sa.Column("caller", sa.String(length=200), nullable=True),
        sa.Column("number", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("taken_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=True),
        sa.Column("mail_status", sa.String(length=16), nullable=False),
        sa.Column("mail_error", sa.Text(), nullable=True),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_staff_messages_company_id", "staff_messages", ["company_id"])
    with op.batch_alter_table("voicemails") as batch:
        batch.add_column(sa.Column("heard_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("auth_tokens") as batch:
        batch.add_column(sa.Column("scope", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("auth_tokens") as batch:
        batch.drop_column("scope")
    with op.batch_alter_table("voicemails") as batch:
        batch.drop_column("heard_at")
    op.drop_table("staff_messages")
    op.drop_table("company_staff")
    op.drop_table("companies")
