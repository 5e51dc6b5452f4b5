"""catalog_generation: the number public caches are keyed on (catalog/generation.py)

Revision ID: 0008_catalog_generation
Revises: 0007_user_sessions
Create Date: 2026-12-01 21:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_catalog_generation"
down_revision = "0007_user_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "catalog_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(table, [{"id": 1, "value": 0}])


def downgrade() -> None:
    op.drop_table("catalog_generation")
