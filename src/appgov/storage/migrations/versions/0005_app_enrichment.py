"""app enrichment: why an app's Marketplace enrichment is missing (``enrichment_pending``)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # empty: every app synced so far was enriched (or the sync deferred) as it was stored
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enrichment", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("enrichment")
