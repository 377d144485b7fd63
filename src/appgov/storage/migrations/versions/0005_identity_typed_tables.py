"""identity: Confluence audit rows re-keyed by time and digest

Revision ID: 0005_identity
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from appgov.connectors.atlassian.datasets import CONFLUENCE_AUDIT_RECORDS
from appgov.connectors.atlassian.streams import confluence_audit_key

revision = "0005_identity"
down_revision = "0004"
branch_labels = None
depends_on = None

RECORDS = sa.table(
    "records",
    sa.column("id", sa.Integer),
    sa.column("dataset", sa.String),
    sa.column("key", sa.String),
    sa.column("data", sa.JSON),
)


def upgrade() -> None:
    _rekey_confluence_audit()


def downgrade() -> None:
    # the new keys stay: the older code treats keys as opaque, and going back to the time alone
    # would collide where two records share a millisecond
    pass


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
