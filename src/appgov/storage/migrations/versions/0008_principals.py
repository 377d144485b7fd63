"""principals: who acted, as a user id and a way in (console, api, cli, scheduler) beside the name

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# (table, the name column, its user id column, its way-in column)
ACTORS = (
    ("domains", "created_by", "created_by_user_id", "created_via"),
    ("jobs", "requested_by", "requested_by_user_id", "requested_via"),
    ("audit_events", "actor", "actor_user_id", "actor_via"),
)


def upgrade() -> None:
    for table, name, user_id, via in ACTORS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(user_id, sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column(via, sa.String(length=16), nullable=True))
        # so far the console stored the user's email and the command line the system user's name:
        # a name that is a user's email was the console, "scheduler" the scheduler, anything else
        # the command line (the SQL names below are this module's constants, not input)
        user_of = f"SELECT users.id FROM users WHERE users.email = {table}.{name}"  # noqa: S608
        op.execute(f"UPDATE {table} SET {user_id} = ({user_of}) WHERE {name} LIKE '%@%'")  # noqa: S608
        scheduler = f" WHEN {name} = 'scheduler' THEN 'scheduler'" if table == "jobs" else ""
        way_in = f"CASE WHEN {user_id} IS NOT NULL THEN 'console'{scheduler} ELSE 'cli' END"
        op.execute(f"UPDATE {table} SET {via} = {way_in}")  # noqa: S608
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(via, existing_type=sa.String(length=16), nullable=False)
            if table != "audit_events":  # the trail outlives its users: no foreign key
                batch_op.create_foreign_key(
                    op.f(f"fk_{table}_{user_id}_users"), "users", [user_id], ["id"], ondelete="SET NULL"
                )


def downgrade() -> None:
    for table, _name, user_id, via in ACTORS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table != "audit_events":
                batch_op.drop_constraint(op.f(f"fk_{table}_{user_id}_users"), type_="foreignkey")
            batch_op.drop_column(via)
            batch_op.drop_column(user_id)
