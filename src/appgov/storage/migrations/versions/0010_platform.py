"""A domain's platform; Atlassian's columns move to the connector's atlassian_sites table

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

GRANT_FK = "fk_domains_oauth_grant_id_oauth_grants"


def upgrade() -> None:
    op.create_table(
        "atlassian_sites",
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("cloud_id", sa.String(length=64), nullable=True),
        sa.Column("oauth_grant_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_atlassian_sites_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["oauth_grant_id"],
            ["oauth_grants.id"],
            name=op.f("fk_atlassian_sites_oauth_grant_id_oauth_grants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("domain_id", name=op.f("pk_atlassian_sites")),
    )
    # every domain so far is an Atlassian site: each gets its row, whatever it holds
    op.execute(
        "INSERT INTO atlassian_sites (domain_id, cloud_id, oauth_grant_id) "
        "SELECT id, cloud_id, oauth_grant_id FROM domains"
    )
    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("platform", sa.String(length=32), server_default="atlassian", nullable=False)
        )
        batch_op.drop_constraint(GRANT_FK, type_="foreignkey")
        batch_op.drop_column("oauth_grant_id")
        batch_op.drop_column("cloud_id")


def downgrade() -> None:
    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cloud_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("oauth_grant_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(GRANT_FK, "oauth_grants", ["oauth_grant_id"], ["id"], ondelete="SET NULL")
    op.execute(
        "UPDATE domains SET "
        "cloud_id = (SELECT s.cloud_id FROM atlassian_sites s WHERE s.domain_id = domains.id), "
        "oauth_grant_id = (SELECT s.oauth_grant_id FROM atlassian_sites s WHERE s.domain_id = domains.id)"
    )
    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.drop_column("platform")
    op.drop_table("atlassian_sites")
