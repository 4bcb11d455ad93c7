"""Aurora's Data API (``rds-data``): the adapter that reaches the database through it, and an
emulator of the service over a real MySQL or MariaDB for tests and local use
(:mod:`filestore.adapters.dataapi.emulator`)."""
