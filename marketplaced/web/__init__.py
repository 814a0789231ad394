"""The embedded dashboard and JSON API: `create_app(WebDeps(...))` and `start_site(app, cfg)`.

The daemon hands the app its dependencies (pool, config, a `StatusSource` and `Controls`);
pages are server-rendered Jinja2 with autoescaping, charts are server-side SVG, every list has
a streamed CSV twin and a JSON twin under `/api/v1`.
"""
