"""identity: typed identity and permission tables; Confluence audit rows re-keyed by time and digest

The new tables start empty: the next complete pass of each data set they are projected from fills
them (``connectors/atlassian/identity.py``), so no backfill from the raw records is made here.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from appgov.connectors.atlassian.datasets import CONFLUENCE_AUDIT_RECORDS
from appgov.connectors.atlassian.streams import confluence_audit_key

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

RECORDS = sa.table(
    "records",
    sa.column("id", sa.Integer),
    sa.column("dataset", sa.String),
    sa.column("key", sa.String),
    sa.column("data", sa.JSON),
)


# table -> its columns beside id and domain_id, its unique columns (with domain_id), its indexes
TABLES: dict[str, tuple[list[sa.Column[object]], list[str], dict[str, list[str]]]] = {
    "directory_users": (
        [
            sa.Column("account_id", sa.String(128), nullable=False),
            sa.Column("account_type", sa.String(32), nullable=True),
            sa.Column("display_name", sa.Text(), nullable=True),
            sa.Column("active", sa.Boolean(), nullable=True),
        ],
        ["account_id"],
        {},
    ),
    "directory_groups": (
        [
            sa.Column("group_id", sa.String(128), nullable=False),
            sa.Column("name", sa.Text(), nullable=False),
            sa.Column("admin", sa.Boolean(), nullable=False),
        ],
        ["group_id"],
        {},
    ),
    "group_members": (
        [
            sa.Column("group_id", sa.String(128), nullable=False),
            sa.Column("account_id", sa.String(128), nullable=False),
        ],
        ["account_id", "group_id"],
        {},
    ),
    "permission_grants": (
        [
            sa.Column("scheme_id", sa.String(64), nullable=False),
            sa.Column("grant_id", sa.String(64), nullable=False),
            sa.Column("permission", sa.String(128), nullable=False),
            sa.Column("holder_type", sa.String(64), nullable=False),
            sa.Column("holder_parameter", sa.String(512), nullable=True),
            sa.Column("holder_value", sa.String(512), nullable=True),
        ],
        ["scheme_id", "grant_id"],
        {"ix_permission_grants_domain_holder": ["domain_id", "holder_type", "holder_parameter"]},
    ),
    "role_actors": (
        [
            sa.Column("project_id", sa.String(64), nullable=False),
            sa.Column("role_id", sa.String(64), nullable=False),
            sa.Column("actor_type", sa.String(16), nullable=False),
            sa.Column("actor_value", sa.String(128), nullable=False),
        ],
        ["project_id", "role_id", "actor_type", "actor_value"],
        {"ix_role_actors_domain_actor": ["domain_id", "actor_type", "actor_value"]},
    ),
    "application_roles": (
        [sa.Column("key", sa.String(128), nullable=False), sa.Column("name", sa.Text(), nullable=False)],
        ["key"],
        {},
    ),
    "application_role_groups": (
        [
            sa.Column("role_key", sa.String(128), nullable=False),
            sa.Column("group_id", sa.String(128), nullable=False),
            sa.Column("group_name", sa.Text(), nullable=False),
        ],
        ["role_key", "group_id"],
        {},
    ),
}


def upgrade() -> None:
    for name, (columns, unique, indexes) in TABLES.items():
        op.create_table(
            name,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("domain_id", sa.Integer(), nullable=False),
            *columns,
            sa.ForeignKeyConstraint(
                ["domain_id"], ["domains.id"], name=op.f(f"fk_{name}_domain_id_domains"), ondelete="CASCADE"
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
            sa.UniqueConstraint("domain_id", *unique, name=op.f(f"uq_{name}_domain_id")),
        )
        for index, indexed in indexes.items():
            op.create_index(index, name, indexed, unique=False)
    _rekey_confluence_audit()


def downgrade() -> None:
    # the Confluence audit keys stay: older code treats keys as opaque, and going back to the time
    # alone would collide where two records share a millisecond
    for name, (_, _, indexes) in reversed(TABLES.items()):
        for index in indexes:
            op.drop_index(index, table_name=name)
        op.drop_table(name)


def _rekey_confluence_audit() -> None:
    """Confluence audit rows were keyed by ``creationDate`` alone. Audit data sets are incremental and
    never soft-delete, so rows keyed the old way would stay beside the same records keyed the new
    way by the next pass: they are re-keyed here, from their stored data, as the stream keys them."""
    bind = op.get_bind()
    old = bind.execute(
        sa.select(RECORDS.c.id, RECORDS.c.data).where(
            RECORDS.c.dataset == CONFLUENCE_AUDIT_RECORDS, ~RECORDS.c.key.contains(":")
        )
    ).all()
    if old:
        bind.execute(
            sa.update(RECORDS)
            .where(RECORDS.c.id == sa.bindparam("row_id"))
            .values(key=sa.bindparam("new_key")),
            [{"row_id": row_id, "new_key": confluence_audit_key(data)} for row_id, data in old],
        )
