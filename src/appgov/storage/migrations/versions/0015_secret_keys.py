"""Key checks: a known text encrypted with each key that has encrypted secrets here

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "secret_key_checks",
        sa.Column("key_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("verifier", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_secret_key_checks")),
    )


def downgrade() -> None:
    op.drop_table("secret_key_checks")
