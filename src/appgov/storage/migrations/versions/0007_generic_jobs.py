"""generic jobs: a kind's payload and result instead of a sync's columns; a domain only where needed

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JOBS = sa.table(
    "jobs",
    sa.column("id", sa.Integer()),
    sa.column("full", sa.Boolean()),
    sa.column("run_id", sa.Integer()),
    sa.column("payload", sa.JSON()),
    sa.column("result", sa.JSON()),
)


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("result", sa.JSON(), nullable=True))
    # every job so far is a sync: its ``full`` becomes its payload, the run it made its result
    connection = op.get_bind()
    for job_id, full, run_id in connection.execute(sa.select(JOBS.c.id, JOBS.c.full, JOBS.c.run_id)).all():
        result = {"run_id": run_id} if run_id is not None else None
        connection.execute(
            JOBS.update().where(JOBS.c.id == job_id).values(payload={"full": bool(full)}, result=result)
        )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.alter_column("payload", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("domain_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint("fk_jobs_run_id_sync_runs", type_="foreignkey")
        batch_op.drop_column("run_id")
        batch_op.drop_column("full")


def downgrade() -> None:
    op.execute("DELETE FROM jobs WHERE domain_id IS NULL OR kind <> 'sync'")  # none before this revision
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("full", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("run_id", sa.Integer(), nullable=True))
    connection = op.get_bind()
    for job_id, payload, result in connection.execute(
        sa.select(JOBS.c.id, JOBS.c.payload, JOBS.c.result)
    ).all():
        run_id = (result or {}).get("run_id")
        connection.execute(
            JOBS.update().where(JOBS.c.id == job_id).values(full=bool(payload.get("full")), run_id=run_id)
        )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.alter_column("full", existing_type=sa.Boolean(), nullable=False)
        batch_op.alter_column("domain_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            "fk_jobs_run_id_sync_runs", "sync_runs", ["run_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.drop_column("result")
        batch_op.drop_column("payload")
