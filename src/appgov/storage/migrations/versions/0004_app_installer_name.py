"""app installer name: who installed each app, by name beside the account id

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # empty at first: the next reconcile of each product names the installers it can
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("installed_by_name", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("installed_by_name")
