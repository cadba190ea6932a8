"""The store: SQLModel tables, Alembic migrations, plan import, task status and history."""
