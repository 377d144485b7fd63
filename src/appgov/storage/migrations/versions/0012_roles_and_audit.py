"""Roles, revocation rights, invitations, personal API tokens, sessions that say where they came
from, and an audit trail the database keeps append-only

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

APPEND_ONLY = "audit_events is append-only"


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
    # until now every user could do everything; is_admin said who was created as an administrator
    op.execute("UPDATE users SET role = CASE WHEN is_admin THEN 'admin' ELSE 'viewer' END")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("role", existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_column("is_admin")

    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("user_agent", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "revocation_rights",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=True),
        sa.Column("granted_by", sa.String(length=320), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["domain_id"], ["domains.id"], ondelete="CASCADE",
                                name=op.f("fk_revocation_rights_domain_id_domains")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_revocation_rights_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revocation_rights")),
        sa.UniqueConstraint("user_id", "domain_id", name=op.f("uq_revocation_rights_user_id")),
    )  # fmt: skip
    op.create_index(
        "ux_revocation_rights_all_domains", "revocation_rights", ["user_id"], unique=True,
        sqlite_where=sa.text("domain_id IS NULL"), postgresql_where=sa.text("domain_id IS NULL"),
    )  # fmt: skip
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("invited_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_table(
        "personal_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_personal_tokens_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_personal_tokens_token_hash")),
    )  # fmt: skip
    op.create_index(op.f("ix_personal_tokens_user_id"), "personal_tokens", ["user_id"], unique=False)

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("request_id", sa.String(length=32), nullable=True))
    op.execute("UPDATE audit_events SET outcome = 'success'")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("outcome", existing_type=sa.String(length=16), nullable=False)
    _append_only()


def _append_only() -> None:
    """Triggers that refuse UPDATE and DELETE on the audit trail (and TRUNCATE on PostgreSQL). A later
    migration that rebuilds the table (SQLite's batch mode) must create them again."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
    )


def _drop_append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
        return
    op.execute("DROP TRIGGER audit_events_no_change ON audit_events")
    op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
    op.execute("DROP FUNCTION audit_events_append_only()")


def downgrade() -> None:
    _drop_append_only()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("request_id")
        batch_op.drop_column("address")
        batch_op.drop_column("outcome")
    op.drop_index(op.f("ix_personal_tokens_user_id"), table_name="personal_tokens")
    op.drop_table("personal_tokens")
    op.drop_table("invitations")
    op.drop_index("ux_revocation_rights_all_domains", table_name="revocation_rights")
    op.drop_table("revocation_rights")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_user_id"))
        batch_op.drop_column("user_agent")
        batch_op.drop_column("address")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_admin", sa.Boolean(), nullable=True))
    op.execute("UPDATE users SET is_admin = (role = 'admin')")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("is_admin", existing_type=sa.Boolean(), nullable=False)
        batch_op.drop_column("disabled_at")
        batch_op.drop_column("role")
