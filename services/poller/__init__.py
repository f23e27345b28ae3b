"""`pulse poll`: platform insights of registered posts, polled on a schedule and sent to ingest."""
