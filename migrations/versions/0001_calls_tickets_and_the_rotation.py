"""calls, tickets and the rotation

Revision ID: 0001
Revises:
Create Date: 2026-11-26 07:17:53.699566
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_phone'), ['phone'], unique=False)

    op.create_table('rotations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('handoff', sa.String(length=16), nullable=False),
    sa.Column('shift_kind', sa.String(length=10), nullable=False),
    sa.Column('shift_hours', sa.Integer(), nullable=True),
    sa.Column('backups', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rotations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rotations_effective_from'), ['effective_from'], unique=False)

    op.create_table('ticket_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('next_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    # Ticket numbers start at five digits; see tickets.models.TicketCounter.
    op.bulk_insert(sa.table("ticket_counter", sa.column("id", sa.Integer), sa.column("next_number", sa.Integer)),
                   [{"id": 1, "next_number": 10001}])
    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('caller_number', sa.String(length=20), nullable=True),
    sa.Column('callback_number', sa.String(length=20), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('response_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('responded_by', sa.String(length=200), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('call_sid', sa.String(length=64), nullable=True),
    sa.Column('recording_url', sa.String(length=500), nullable=True),
    sa.Column('transcript', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_sid'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_response_due_at'), ['response_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_severity'), ['severity'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_status'), ['status'], unique=False)

    op.create_table('call_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_sid', sa.String(length=64), nullable=False),
    sa.Column('from_number', sa.String(length=64), nullable=True),
    sa.Column('to_number', sa.String(length=64), nullable=True),
    sa.Column('caller_name', sa.String(length=120), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('answered_by', sa.String(length=200), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('step', sa.String(length=24), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('notice', sa.String(length=24), nullable=True),
    sa.Column('severity', sa.String(length=10), nullable=True),
    sa.Column('caller_id', sa.String(length=20), nullable=True),
    sa.Column('callback_number', sa.String(length=20), nullable=True),
    sa.Column('pending_number', sa.String(length=20), nullable=True),
    sa.Column('callback_settled', sa.Boolean(), nullable=False),
    sa.Column('looked_up_ticket_id', sa.Integer(), nullable=True),
    sa.Column('looked_up_number', sa.String(length=20), nullable=True),
    sa.Column('targets_json', sa.Text(), nullable=True),
    sa.Column('target_index', sa.Integer(), nullable=False),
    sa.Column('accepted_target', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['looked_up_ticket_id'], ['tickets.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_sid')
    )
    with op.batch_alter_table('call_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_log_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_log_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('overrides', schema=None) as batch_op:
        batch_op.create_index('ix_overrides_span', ['start', 'end'], unique=False)

    op.create_table('rotation_members',
    sa.Column('rotation_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ),
    sa.ForeignKeyConstraint(['rotation_id'], ['rotations.id'], ),
    sa.PrimaryKeyConstraint('rotation_id', 'position')
    )
    op.create_table('ticket_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_events_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('call_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call_log.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('call_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_events_call_id'), ['call_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('call_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_events_call_id'))

    op.drop_table('call_events')
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_events_ticket_id'))

    op.drop_table('ticket_events')
    op.drop_table('rotation_members')
    with op.batch_alter_table('overrides', schema=None) as batch_op:
        batch_op.drop_index('ix_overrides_span')

    op.drop_table('overrides')
    with op.batch_alter_table('call_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_log_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_call_log_started_at'))

    op.drop_table('call_log')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_status'))
        batch_op.drop_index(batch_op.f('ix_tickets_severity'))
        batch_op.drop_index(batch_op.f('ix_tickets_response_due_at'))
        batch_op.drop_index(batch_op.f('ix_tickets_created_at'))

    op.drop_table('tickets')
    op.drop_table('ticket_counter')
    with op.batch_alter_table('rotations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rotations_effective_from'))

    op.drop_table('rotations')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_phone'))

    op.drop_table('contacts')
