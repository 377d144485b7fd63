"""An invitation without an email: the first administrator's one-time setup link, which ``appgov serve``
prints while no user exists (the person who opens it names their email)

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.alter_column("email", existing_type=sa.String(length=320), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM invitations WHERE email IS NULL")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.alter_column("email", existing_type=sa.String(length=320), nullable=False)
