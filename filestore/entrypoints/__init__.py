"""The entrypoints: Lambda handlers (one module per function) and the `filestore` command line.

They translate, nothing else: event → command → response. Each Lambda module has an async core
`handle(event, context, bus=None)` (awaited by the local server and by tests) and a synchronous
Lambda `handler` that runs it on the execution environment's kept event loop (see
`filestore.entrypoints.runtime`). Importing this package imports nothing.
"""
