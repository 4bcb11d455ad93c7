"""Aurora's Data API (``rds-data``): the adapter that reaches the database through it
(:mod:`filestore.adapters.dataapi.database`). Its tests run it against an emulator of the
service over a real MySQL or MariaDB, which lives with them (``tests/support/dataapi_emulator``)."""
