"""The HTTP API over the status database."""
