"""photos and files that come with a patient's text (MMS), kept on the conversation (issue #19, item 2)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 14:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
import service.models


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('message_media',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('created_at', service.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('message_media', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_media_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_media_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_media_patient_id'), ['patient_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('message_media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_media_patient_id'))
        batch_op.drop_index(batch_op.f('ix_message_media_message_id'))
        batch_op.drop_index(batch_op.f('ix_message_media_conversation_id'))

    op.drop_table('message_media')
