"""grant upkeep: the consent that started a grant's token family, and the warning before its end

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
    with op.batch_alter_table("oauth_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reconsent_warned_at", sa.DateTime(timezone=True), nullable=True))
    # before this revision only the first consent was kept: the deadline counts from it, which is
    # early when a later consent started a new family, never late
    op.execute("UPDATE oauth_grants SET consented_at = created_at")
    with op.batch_alter_table("oauth_grants", schema=None) as batch_op:
        batch_op.alter_column("consented_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("oauth_grants", schema=None) as batch_op:
        batch_op.drop_column("reconsent_warned_at")
        batch_op.drop_column("consented_at")
