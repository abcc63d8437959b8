"""advice that did not hold up, reviewed: the clinical lead's review (who, when, a note) of a home-care or
see-within-3-days outcome followed within 7 days by a higher level (issue #20, item 4); the note is sealed
(privacy/sealed.py), which is text in a Text column like every sealed column

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 16:35:00.000000
"""
from alembic import op
import sqlalchemy as sa
import service.models


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('advice_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('later_conversation_id', sa.Integer(), nullable=True),
    sa.Column('later_level', sa.String(length=32), nullable=False),
    sa.Column('later_at', service.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by', sa.String(length=64), nullable=False),
    sa.Column('reviewed_at', service.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('content_purged_at', service.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ),
    sa.ForeignKeyConstraint(['later_conversation_id'], ['conversations.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conversation_id')
    )
    with op.batch_alter_table('advice_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_advice_reviews_patient_id'), ['patient_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('advice_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_advice_reviews_patient_id'))

    op.drop_table('advice_reviews')
