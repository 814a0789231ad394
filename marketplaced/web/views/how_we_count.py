"""The "How we count" page: docs/how-we-count.md rendered as HTML.

The text lives in one place, the Markdown file (shipped with the package under
share/marketplaced/docs), so the page, the repository and the tests cannot drift apart. The
converter has raw HTML switched off: anything that looks like markup in the file is escaped.
"""

from __future__ import annotations

import sys
from pathlib import Path

from aiohttp import web
from markdown_it import MarkdownIt
from markupsafe import Markup

from marketplaced.web.views.common import params, render

DOC = "how-we-count.md"


def doc_path() -> Path:
    """The source tree's docs/, or the installed copy."""
    candidates = [
        Path(__file__).resolve().parents[3] / "docs" / DOC,
        Path(sys.prefix) / "share" / "marketplaced" / "docs" / DOC,
    ]
    return next((c for c in candidates if c.is_file()), candidates[0])


def html_of(text: str) -> Markup:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    # raw HTML is disabled in the parser: markup in the file comes out escaped
    return Markup(md.render(text))


async def how_we_count(request: web.Request) -> web.Response:
    params(request)
    try:
        text = doc_path().read_text(encoding="utf-8")
    except OSError as exc:
        raise web.HTTPInternalServerError(text=f"cannot read {DOC}: {exc}\n") from exc
    return await render(
        request, "how_we_count.html", {"title": "How we count", "doc": html_of(text)}
    )
