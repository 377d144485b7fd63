"""Storage: SQLAlchemy 2 models, the engine (SQLite by default, PostgreSQL by URL) and Alembic migrations."""
