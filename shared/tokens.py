"""``python -m shared.tokens --sub P000001 --role resident``: print a local development token.

Signed with the local settings (``JWT_SECRET``, HS256 by default; ``--key-file`` for RS256 with a private key).
"""
from __future__ import annotations

import argparse
import sys

from . import config
from .auth import issue


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make token", description=__doc__)
    parser.add_argument("--sub", required=True, help="caller id: a person_id for residents, else a staff id")
    parser.add_argument("--role", action="append", required=True, help="a role; repeat for several")
    parser.add_argument("--ttl", type=int, default=3600, help="seconds until the token expires")
    parser.add_argument("--key-file", help="PEM private key (RS256); default: JWT_SECRET with HS256")
    args = parser.parse_args(argv)
    settings = config.load("tokens")
    if args.key_file:
        secret, algorithm = open(args.key_file, encoding="utf-8").read(), "RS256"
    else:
        secret, algorithm = settings.jwt_secret, settings.jwt_algorithm
    roles = [r for chunk in args.role for r in chunk.split(",") if r]
    print(issue(args.sub, roles, secret=secret, algorithm=algorithm, ttl=args.ttl,
                issuer=settings.jwt_issuer, audience=settings.jwt_audience))
    return 0


if __name__ == "__main__":
    sys.exit(main())
