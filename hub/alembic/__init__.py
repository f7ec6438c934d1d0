"""Alembic migration environment (a package so that it ships inside the hub wheel)."""
