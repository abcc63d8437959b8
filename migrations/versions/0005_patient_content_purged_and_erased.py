"""patient content at rest (issue #18, items 4-5): when a row's content was purged (retention, erasure),
and when a patient's erasure request was carried out

Encryption needs no schema change: sealed values are text in the same Text and JSON columns.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 15:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
import service.models


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', service.models.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_purged_at', service.models.UTCDateTime(timezone=True),
                                      nullable=True))

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_purged_at', service.models.UTCDateTime(timezone=True),
                                      nullable=True))

    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_purged_at', service.models.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_column('content_purged_at')

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('content_purged_at')

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('content_purged_at')

    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
