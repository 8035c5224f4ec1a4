"""Alembic environment: runs on the connection Vaxel hands over (see database.migrate)."""

from alembic import context

from vaxel.storage.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
