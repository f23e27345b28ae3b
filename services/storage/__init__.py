"""The status database: engine, schema migrations and the repository the services share."""

from services.storage.db import make_engine, migrate
from services.storage.repository import StatusRepository

__all__ = ["StatusRepository", "make_engine", "migrate"]
