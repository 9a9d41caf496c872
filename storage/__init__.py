"""Persistence: SQLModel tables, Alembic migrations, repositories and the outbox."""
