"""Relational persistence: one schema, one set of repositories written as SQL text.

The repositories (`repositories`), the unit of work (`unit_of_work`) and the migration runner
(`migrations`) speak to a small `Executor` protocol and import neither SQLAlchemy nor boto3, so
the Data API adapter (`filestore.adapters.dataapi`) shares them without loading SQLAlchemy.
`filestore.adapters.sql.alchemy` is the SQLAlchemy side: MySQL through aiomysql and SQLite
through aiosqlite. Keep this file free of imports.
"""
