"""Bearer-token checking: JWTs signed with HS256 (a shared secret) or RS256 (a public key).

A verified token is remembered until it expires (at most 10 minutes, 4,096 tokens), so
that a client re-using its token does not pay for an RSA verification per request.
Messages say why a token was refused but never repeat the token or the key.
"""

from __future__ import annotations

import time
from typing import Optional

import jwt

from .config import AuthConfig

_CACHE_SIZE = 4096
_CACHE_SECONDS = 600.0


class AuthError(Exception):
    """A refused request: the message goes to the client with a 401."""


class TokenVerifier:
    """Checks `Authorization: Bearer <jwt>` headers against the configured key."""

    def __init__(self, config: AuthConfig):
        self._config = config
        self._key = config.key
        if config.algorithm == "RS256":
            from cryptography.hazmat.primitives.serialization import load_pem_public_key

            self._key = load_pem_public_key(config.key.encode())
        self._cache: dict[str, float] = {}  # token -> monotonic time until which it is good

    def check(self, header: Optional[bytes]) -> None:
        """Raises AuthError unless the header carries a valid, unexpired token."""
        if not header:
            raise AuthError("missing bearer token: send 'Authorization: Bearer <JWT>'")
        scheme, _, token = header.decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError("the Authorization header must be 'Bearer <JWT>'")
        now = time.monotonic()
        until = self._cache.get(token)
        if until is not None and now < until:
            return
        config = self._config
        try:
            claims = jwt.decode(token, self._key, algorithms=[config.algorithm],
                                audience=config.audience, issuer=config.issuer, leeway=30)
        except jwt.ExpiredSignatureError:
            raise AuthError("the bearer token has expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthError("the bearer token is not valid yet (nbf/iat in the future)") from None
        except jwt.InvalidAlgorithmError:
            raise AuthError(f"the bearer token is not signed with {config.algorithm}") from None
        except jwt.InvalidAudienceError:
            raise AuthError("the bearer token's audience is not this server's") from None
        except jwt.InvalidIssuerError:
            raise AuthError("the bearer token's issuer is not the expected one") from None
        except jwt.InvalidSignatureError:
            raise AuthError("the bearer token's signature does not verify") from None
        except jwt.InvalidTokenError:
            raise AuthError("the bearer token is not a valid JWT") from None
        expires = claims.get("exp")
        good_for = _CACHE_SECONDS
        if isinstance(expires, (int, float)):
            good_for = min(good_for, expires - time.time())
        if good_for > 0:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[token] = now + good_for
