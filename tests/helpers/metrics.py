"""/metrics as Prometheus reads it: `scrape` parses the page with the client library's own parser
(each family written once), `sample` picks one value of a family by suffix and labels."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families


async def scrape(client: TestClient) -> dict[str, Metric]:
    """/metrics read by the Prometheus client library's own parser: family name → family."""
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = list(text_string_to_metric_families(await resp.text()))
    names = [f.name for f in families]
    repeated = sorted({n for n in names if names.count(n) > 1})
    assert not repeated, f"families written more than once: {repeated}"
    return {f.name: f for f in families}


def sample(family: Metric, suffix: str = "", **labels: str) -> float:
    values = [
        s.value for s in family.samples if s.name == family.name + suffix and s.labels == labels
    ]
    assert len(values) == 1, (family.name, suffix, labels, family.samples)
    return values[0]
