"""A fake Uzum product API serving the recorded fixtures as templates (benchmarks, not tests).

Ids are 70 % hits (`id % 10 < 7`); every 10th hit is the 102-SKU product
(`fixtures/uzum/product_2114919.json`, 218 KB), the others the one-SKU one (25 KB): on average
11 SKUs and 44 KB per product, the mix the issue's figures were measured on. The product id
and the SKU ids (`id * 1000 + n`) are filled in per request, so every product and SKU is a row of
its own; everything else is the recorded body as is. A miss is a Spring-style 404.

    python tests/benchmarks/recorded_upstream.py --port 8091     # serve until killed
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.helpers.recorded import uzum_text  # noqa: E402

SMALL, BIG = 1772350, 2114919
#: ids per 10 that exist; of the existing ones, every 10th is the big product
HIT_PER_10 = 7
BIG_EVERY = 10


class Template:
    """The recorded text with the product id and each SKU id as slots."""

    def __init__(self, pid: int) -> None:
        text = uzum_text(pid)
        skus = [s["id"] for s in json.loads(text, strict=False)["payload"]["data"]["skuList"]]
        slots = {str(pid): "%(p)d", **{str(sku): f"%(s{n})d" for n, sku in enumerate(skus)}}
        pattern = re.compile(r"(?<![\d.])(" + "|".join(slots) + r")(?![\d.])")
        self.text = pattern.sub(lambda m: slots[m.group(1)], text.replace("%", "%%"))
        self.n_skus = len(skus)

    def body(self, pid: int) -> bytes:
        values = {"p": pid, **{f"s{n}": pid * 1000 + n for n in range(self.n_skus)}}
        return (self.text % values).encode()


def is_hit(pid: int) -> bool:
    return pid % 10 < HIT_PER_10


def app() -> web.Application:
    small, big = Template(SMALL), Template(BIG)

    async def product(request: web.Request) -> web.Response:
        pid = int(request.match_info["pid"])
        if not is_hit(pid):
            body = f'{{"status":404,"error":"Not Found","path":"/api/v2/product/{pid}"}}'
            return web.Response(status=404, body=body.encode(), content_type="application/json")
        nth_hit = (pid // 10) * HIT_PER_10 + pid % 10
        template = big if nth_hit % BIG_EVERY == 0 else small
        return web.Response(body=template.body(pid), content_type="application/json")

    application = web.Application()
    application.router.add_get("/api/v2/product/{pid:\\d+}", product)
    return application


def serve(port: int) -> None:
    web.run_app(app(), host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    serve(ap.parse_args().port)
