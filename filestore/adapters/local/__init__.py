"""Adapters that exist for `filestore serve`: everything on one machine."""
