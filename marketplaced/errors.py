"""The project's exception hierarchy: one root, meaningful subclasses.

Every error a user can meet carries a message that says what is wrong and what to do.
"""

from __future__ import annotations


class MarketplacedError(Exception):
    """Root of every error raised on purpose by marketplaced."""


class ConfigError(MarketplacedError):
    """The configuration file or environment is invalid (exit status 78, EX_CONFIG)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class DatabaseError(MarketplacedError):
    """PostgreSQL is unreachable, misconfigured or at the wrong schema version."""


class SchemaError(DatabaseError):
    """The database schema does not match what this version of the code expects."""


class FetchError(MarketplacedError):
    """A request to an upstream failed for good (after retries)."""

    #: short machine-readable kind used in metrics and the dead-letter table
    kind: str = "error"

    def __init__(
        self, message: str, *, url: str = "", status: int | None = None, body: bytes = b""
    ) -> None:
        self.url = url
        self.status = status
        #: what the upstream sent when that is the problem (undecodable JSON, a block page):
        #: kept so the raw archive can hold it for a later `process-raw`
        self.body = body
        super().__init__(message)


class HttpStatusError(FetchError):
    kind = "http_status"


class RateLimitedError(FetchError):
    kind = "rate_limited"


class BlockPageError(FetchError):
    """The upstream answered with an HTML/captcha page instead of JSON."""

    kind = "block_page"


class InvalidJsonError(FetchError):
    """The body was not valid JSON (truncated, garbage)."""

    kind = "invalid_json"


class TransportError(FetchError):
    """Timeouts, connection resets, DNS failures."""

    kind = "transport"


class UpstreamBlockedError(FetchError):
    """The upstream demands something we will not provide (e.g. UZEX 'Not Valid')."""

    kind = "blocked_by_upstream"


class ParseError(MarketplacedError):
    """A payload could not be turned into records; the reason says why."""

    def __init__(self, reason: str, *, entity_id: int | str | None = None) -> None:
        self.reason = reason
        self.entity_id = entity_id
        super().__init__(reason if entity_id is None else f"{entity_id}: {reason}")
