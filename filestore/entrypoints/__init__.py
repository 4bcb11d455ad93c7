"""Entrypoints: Lambda handlers and the `filestore` command line. They translate, nothing else."""
