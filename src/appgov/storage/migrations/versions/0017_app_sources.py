"""app sources: where each app's installer, scopes and egress came from; unknown scopes are null

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # empty at first: the next reconcile of each product fills them from the documented sources
    # (an installer read from a product audit log before this version is replaced or cleared then)
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("installed_source", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("scopes_source", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("egress", sa.JSON(), nullable=True))
        batch_op.alter_column("scopes", existing_type=sa.JSON(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE apps SET scopes = '[]' WHERE scopes IS NULL")
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.alter_column("scopes", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("egress")
        batch_op.drop_column("scopes_source")
        batch_op.drop_column("installed_source")
