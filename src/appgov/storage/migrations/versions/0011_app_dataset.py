"""An app names the data set whose records list it, so that generic code needs no platform's naming

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
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dataset", sa.String(length=64), nullable=True))
    # every app so far is an Atlassian product's, listed by its plugin manager's data set
    op.execute("UPDATE apps SET dataset = product || '.apps'")
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.alter_column("dataset", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("dataset")
