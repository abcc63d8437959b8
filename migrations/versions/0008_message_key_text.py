"""messages.key as Text: a turn's row keeps every message key it carries (comma-joined), so a long phone
call or SMS turn no longer loses its outcome id to a 64-character cut (records summary, did the advice hold
up read outcome ids from these keys); the key column is plain (not sealed), so its stored text is the key

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 17:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.alter_column('key', existing_type=sa.String(length=64), type_=sa.Text(), existing_nullable=True)


def downgrade() -> None:
    # Back to 64 characters: cut longer keys first (as the writers did before 0008), or Postgres refuses.
    op.execute("UPDATE messages SET key = substr(key, 1, 64) WHERE length(key) > 64")
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.alter_column('key', existing_type=sa.Text(), type_=sa.String(length=64), existing_nullable=True)
