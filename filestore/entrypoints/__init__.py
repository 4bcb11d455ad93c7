"""The Lambda entrypoints: one module per function, each thin (event → command → response).

Each module has an async core `handle(event, context, bus=None)` (awaited by the local server
and by tests) and a synchronous Lambda `handler` that runs it on the execution environment's
kept event loop (see `filestore.entrypoints.runtime`). Importing this package imports nothing.
"""
