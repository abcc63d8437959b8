"""One name per concept (issue #17 item 6): the silence job's columns are called after it
(conversations.nudge_due_at -> silence_due_at, nudge_stage -> silence_stage, and the index with them),
and a case's emergency | nurse_callback | clinic_queue is its disposition, as on the conversation and
the flow's levels (escalations.severity -> disposition)

Renamed in place (ALTER TABLE ... RENAME COLUMN, SQLite 3.25+ and Postgres): a batch copy would drop and
recreate tables that other rows point at, which SQLite's foreign_keys=ON refuses once there are rows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 17:50:00.000000
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_conversations_nudge_due_at')
        batch_op.alter_column('nudge_due_at', new_column_name='silence_due_at')
        batch_op.alter_column('nudge_stage', new_column_name='silence_stage')
        batch_op.create_index('ix_conversations_silence_due_at', ['silence_due_at'], unique=False)

    with op.batch_alter_table('escalations', schema=None, recreate='never') as batch_op:
        batch_op.alter_column('severity', new_column_name='disposition')


def downgrade() -> None:
    with op.batch_alter_table('escalations', schema=None, recreate='never') as batch_op:
        batch_op.alter_column('disposition', new_column_name='severity')

    with op.batch_alter_table('conversations', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_conversations_silence_due_at')
        batch_op.alter_column('silence_due_at', new_column_name='nudge_due_at')
        batch_op.alter_column('silence_stage', new_column_name='nudge_stage')
        batch_op.create_index('ix_conversations_nudge_due_at', ['nudge_due_at'], unique=False)
