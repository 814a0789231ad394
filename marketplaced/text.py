"""Make a stranger's string storable in PostgreSQL: the one cleaner every parser uses.

Upstream text (titles, names, descriptions, JSON fragments) can carry NUL, which PostgreSQL
`text` and `jsonb` cannot hold, lone surrogates (a JSON "\\ud800" escape decodes to one, and it
cannot be encoded as UTF-8), or megabytes of junk. Each platform's parser used to clean in its
own order; they now share this function, so the same hostile string is stored the same way
whichever marketplace sent it.
"""

from __future__ import annotations

__all__ = ["clean_text"]


def clean_text(text: str, cap: int) -> str:
    """`text` capped at `cap` characters, without NUL, lone surrogates replaced by "?".

    The cap comes first: a hostile multi-megabyte value is cut before anything scans or copies
    it, so cleaning costs O(cap) whatever arrives (this runs for every string of every product
    on the scan's hot path). The result is within the cap either way: dropping NUL afterwards
    can only shorten it, and a replaced surrogate stays one character. Other control characters
    are kept: they are legal in text.
    """
    if len(text) > cap:
        text = text[:cap]
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    return text
