"""Use cases: what the API, ingest and the CLI do, written once over the domain and storage."""
