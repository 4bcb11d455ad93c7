"""`filestore serve`: the Lambda handlers of production, run on one machine behind one server."""
