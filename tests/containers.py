"""Whether testcontainers can run here: a Docker engine answers."""

from __future__ import annotations


def docker_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False
