"""organizations: an Atlassian organization connected with its API key (encrypted), the "App
actions" of its audit log, and its managed accounts' API tokens

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("last4", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("validated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("events_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("events_cursor", sa.JSON(), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sync_error", sa.String(length=500), nullable=True),
        sa.Column("next_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("org_id", name=op.f("uq_organizations_org_id")),
    )
    op.create_table(
        "org_app_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("app_key", sa.String(length=255), nullable=False),
        sa.Column("app_name", sa.String(length=255), nullable=True),
        sa.Column("site_id", sa.String(length=128), nullable=True),
        sa.Column("site_name", sa.String(length=255), nullable=True),
        sa.Column("actor_account_id", sa.String(length=128), nullable=False),
        sa.Column("actor_name", sa.String(length=255), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_org_app_events_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_app_events")),
        sa.UniqueConstraint("organization_id", "event_id", name=op.f("uq_org_app_events_organization_id")),
    )
    op.create_index(op.f("ix_org_app_events_app_key"), "org_app_events", ["app_key"], unique=False)
    op.create_table(
        "org_api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("owner_account_id", sa.String(length=128), nullable=False),
        sa.Column("owner_name", sa.String(length=255), nullable=True),
        sa.Column("owner_email", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_active_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_org_api_tokens_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_api_tokens")),
        sa.UniqueConstraint("organization_id", "token_id", name=op.f("uq_org_api_tokens_organization_id")),
    )


def downgrade() -> None:
    op.drop_table("org_api_tokens")
    op.drop_index(op.f("ix_org_app_events_app_key"), table_name="org_app_events")
    op.drop_table("org_app_events")
    op.drop_table("organizations")
