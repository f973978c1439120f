"""Alembic migration history: numbered, append-only, run on both backends."""
