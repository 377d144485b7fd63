"""Single sign-on through an OpenID Connect provider: users linked to the provider's (issuer, subject),
users without a password (created at their first SSO sign-in), and the sign-ins in flight

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sso_issuer", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("sso_subject", sa.String(length=255), nullable=True))
        batch_op.alter_column("password_hash", existing_type=sa.String(length=255), nullable=True)
        batch_op.create_unique_constraint(batch_op.f("uq_users_sso_issuer"), ["sso_issuer", "sso_subject"])

    op.create_table(
        "sso_flows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.LargeBinary(), nullable=False),
        sa.Column("next_path", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_flows")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_sso_flows_state_hash")),
    )
    op.create_index(op.f("ix_sso_flows_expires_at"), "sso_flows", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sso_flows_expires_at"), table_name="sso_flows")
    op.drop_table("sso_flows")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_sso_issuer"), type_="unique")
        batch_op.alter_column("password_hash", existing_type=sa.String(length=255), nullable=False)
        batch_op.drop_column("sso_subject")
        batch_op.drop_column("sso_issuer")
