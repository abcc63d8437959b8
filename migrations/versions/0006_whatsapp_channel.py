"""WhatsApp as a channel: the patient's current messaging channel and last WhatsApp message; the template a
text was sent as (issue #19, item 1)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 15:02:41.118204
"""
from alembic import op
import sqlalchemy as sa
import service.models


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('patients', schema=None) as batch_op:
        # Every patient so far wrote by SMS (or called): their texts stay SMS.
        batch_op.add_column(sa.Column('messaging_channel', sa.String(length=8), server_default='sms', nullable=False))
        batch_op.add_column(sa.Column('whatsapp_last_at', service.models.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_sid', sa.String(length=34), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('content_sid')

    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_column('whatsapp_last_at')
        batch_op.drop_column('messaging_channel')
