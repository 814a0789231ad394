"""Offline validation of Apprise notification URLs, for `check-config` and start-up.

Apprise can parse a URL into its plugin without sending anything, so a typo in
`alerts.notify_urls` (or `MARKETPLACED_NOTIFY_URLS`) is a configuration error when the file is
loaded rather than a failed delivery hours later. The URLs often hold tokens: an entry that
does not parse is shown by its position and scheme only.
"""

from __future__ import annotations

import logging
import warnings

from marketplaced.jobs.notify import split_urls


def unparsable_urls(text: str) -> list[str]:
    """A masked description ("entry 2, tgram://…") of every URL Apprise cannot use."""
    urls = split_urls(text)
    if not urls:
        return []  # most configs have none: do not pay for importing Apprise
    # Apprise's e-mail plugin imports the deprecated stdlib `imghdr` (see notify.py), and it
    # logs its own warning per bad URL; the message returned here says it once, better
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise

        quiet = logging.getLogger("apprise")
        level, quiet.level = quiet.level, logging.CRITICAL
        try:
            bad = [(i, url) for i, url in enumerate(urls, 1) if not apprise.Apprise().add(url)]
        finally:
            quiet.setLevel(level)
    return [f"entry {i}, {_masked(url)}" for i, url in bad]


def _masked(url: str) -> str:
    scheme, sep, _rest = url.partition("://")
    return f"{scheme}://…" if sep else "(no scheme://)"
