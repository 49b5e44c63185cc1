"""Bearer JWT authentication and per-endpoint role checks (ARCHITECTURE.md, "Authentication").

A token carries ``sub`` (the caller's id; for residents, volunteers and workers their ``person_id``) and
``roles`` (a non-empty list). Local default: HS256 with a shared secret (``JWT_SECRET``). In a district:
RS256 verified with the identity provider's public key (``JWT_PUBLIC_KEY_FILE``, PEM or a JWKS file), with
``JWT_ISSUER`` and ``JWT_AUDIENCE`` checked when set. Refused with 401: no token, a bad signature, an expired
token, a token without ``sub`` or without roles. A valid token without an allowed role: 403.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import lru_cache

import jwt
from flask import current_app, g, request

from .errors import Forbidden, Unauthorized


#: The widest caller id our tables record (``created_by``, ``actor``…: String(64)).
MAX_SUBJECT_LENGTH = 64


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: ``sub`` (person_id or staff id) and ``roles``."""

    sub: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


@lru_cache(maxsize=8)
def _public_keys(path: str):
    text = open(path, encoding="utf-8").read()
    if text.lstrip().startswith("{"):
        jwks = json.loads(text)
        return [jwt.PyJWK(k).key for k in jwks.get("keys", [jwks])]
    return [text]


def decode(token: str, settings) -> dict:
    """Verify ``token`` against ``settings``; return its claims or raise :class:`Unauthorized`."""
    options = {"require": ["exp", "sub"]}
    kwargs = {"algorithms": [settings.jwt_algorithm], "options": options, "leeway": 30}
    if settings.jwt_audience:
        kwargs["audience"] = settings.jwt_audience
    else:
        options["verify_aud"] = False
    if settings.jwt_issuer:
        kwargs["issuer"] = settings.jwt_issuer
    if settings.jwt_algorithm.startswith("HS"):
        keys = [settings.jwt_secret]
    else:
        if not settings.jwt_public_key_file:
            raise Unauthorized("Token verification is not configured (JWT_PUBLIC_KEY_FILE).")
        keys = _public_keys(settings.jwt_public_key_file)
    last: Exception | None = None
    for key in keys:
        try:
            claims = jwt.decode(token, key, **kwargs)
            break
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired.", code="token-expired") from exc
        except jwt.PyJWTError as exc:
            last = exc
    else:
        raise Unauthorized("The token is not valid.", code="invalid-token") from last
    roles = claims.get("roles")
    sub = claims.get("sub")
    if (not isinstance(sub, str) or not sub.strip() or not isinstance(roles, list) or not roles
            or not all(isinstance(r, str) and r for r in roles)):
        raise Unauthorized("The token must carry a subject and at least one role.", code="invalid-token")
    if len(sub) > MAX_SUBJECT_LENGTH or "\x00" in sub or len(roles) > 20:
        # every service records the caller's id in columns of this width (created_by, actor, ...)
        raise Unauthorized(f"The token's subject must be at most {MAX_SUBJECT_LENGTH} characters.",
                           code="invalid-token")
    return claims


def current_principal(optional: bool = False) -> Principal | None:
    """The caller of this request, verified once and cached on ``g``."""
    if "principal" in g:
        return g.principal
    header = request.headers.get("Authorization", "")
    if not header:
        if optional:
            return None
        raise Unauthorized("A bearer token is required.", code="missing-token",
                           headers={"WWW-Authenticate": 'Bearer realm="weizhili"'})
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Use 'Authorization: Bearer <token>'.", code="invalid-token",
                           headers={"WWW-Authenticate": 'Bearer realm="weizhili"'})
    claims = decode(token.strip(), current_app.config["WEIZHILI_SETTINGS"])
    g.principal = Principal(sub=claims["sub"], roles=frozenset(claims["roles"]))
    return g.principal


def require(*roles: str) -> Principal:
    """The caller, who must hold one of ``roles`` (403 otherwise; 401 without a valid token)."""
    principal = current_principal()
    if roles and not principal.has(*roles):
        raise Forbidden("This action needs one of the roles: " + ", ".join(roles) + ".")
    return principal


def issue(sub: str, roles: list[str], *, secret: str, algorithm: str = "HS256", ttl: int = 3600,
          issuer: str | None = None, audience: str | None = None, now: float | None = None) -> str:
    """A signed token (local use: ``make token``; tests). Production tokens come from the identity provider."""
    now = int(now if now is not None else time.time())
    claims = {"sub": sub, "roles": list(roles), "iat": now, "exp": now + ttl}
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm=algorithm)
