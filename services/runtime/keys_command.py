"""``pulse keys create|list|revoke``: API keys managed from a shell on the database's host."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

from services.domain.keys import Scope
from services.service_layer.access import InvalidKeyRequest, issue_key
from services.settings import SharedSettings
from services.storage.db import make_engine, migrate
from services.storage.keys import AuditLog, KeyRepository

CLI_ACTOR = "pulse keys"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a key and print it (shown once)")
    create.add_argument("--name", required=True, help="who or what uses the key")
    create.add_argument(
        "--scope",
        action="append",
        required=True,
        choices=[s.value for s in Scope],
        help="a scope the key grants; repeat for several",
    )
    create.add_argument("--expires-in-days", type=float, help="refuse the key after this long")
    listing = actions.add_parser("list", help="keys, without the keys themselves")
    listing.add_argument("--all", action="store_true", help="revoked keys too")
    revoke = actions.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")


def main_from_args(args: argparse.Namespace) -> int:
    engine = make_engine(SharedSettings().database_url)
    try:
        migrate(engine)
        keys = KeyRepository(engine)
        audit = AuditLog(engine)
        if args.action == "create":
            return _create(keys, audit, args)
        if args.action == "list":
            return _list(keys, args.all)
        return _revoke(keys, audit, args.key_id)
    finally:
        engine.dispose()


def _create(keys: KeyRepository, audit: AuditLog, args: argparse.Namespace) -> int:
    expires = None
    if args.expires_in_days is not None:
        expires = datetime.now(UTC) + timedelta(days=args.expires_in_days)
    try:
        issued = issue_key(
            keys, args.name, frozenset(Scope(s) for s in args.scope), expires, CLI_ACTOR
        )
    except InvalidKeyRequest as exc:
        print(f"pulse keys create: {exc}", file=sys.stderr)
        return 2
    audit.record(CLI_ACTOR, None, "key.create", issued.record.key_id)
    print(issued.key)
    print(
        f"key {issued.record.key_id} '{args.name}' ({' '.join(sorted(args.scope))}); "
        "it is shown only now. Use it as 'Authorization: Bearer <key>'.",
        file=sys.stderr,
    )
    return 0


def _list(keys: KeyRepository, include_revoked: bool) -> int:
    print(f"{'key id':38} {'name':20} {'last 4':6} {'expires':25} {'revoked':25} scopes")
    for key in keys.list(include_revoked):
        expires = key.expires_at.isoformat() if key.expires_at else "never"
        revoked = key.revoked_at.isoformat() if key.revoked_at else "-"
        print(
            f"{key.key_id:38} {key.name:20} {key.last_four:6} {expires:25} {revoked:25} "
            + " ".join(sorted(key.scopes))
        )
    return 0


def _revoke(keys: KeyRepository, audit: AuditLog, key_id: str) -> int:
    revoked = keys.revoke(key_id, datetime.now(UTC))
    if revoked is None:
        print(f"pulse keys revoke: no key '{key_id}'", file=sys.stderr)
        return 1
    audit.record(CLI_ACTOR, None, "key.revoke", f"{key_id} ({revoked.name})")
    print(f"revoked {key_id} '{revoked.name}'", file=sys.stderr)
    return 0
