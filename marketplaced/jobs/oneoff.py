"""What `marketplaced jobs run alerts|health` does without `--commit`: a dry run.

The alerts and health jobs keep state the daemon relies on — the alerts watermark, rule
state, stored events, the last health verdict whose change is notified once. A run from the
command line (often with another configuration file, e.g. the repository's own) must not move
any of it behind the daemon's back, so by default it only shows what the job would do: alerts
evaluate the rules the daemon stored (never the command's own configuration) in a transaction
that is rolled back, and list the events they would store; health runs its checks without
recording them and says whether a change would be notified. Nothing is sent, nothing is
written, no `job_runs` row is added. `--commit` runs the job for real, as the daemon would.
"""

from __future__ import annotations

from typing import Any, TextIO

from marketplaced.jobs import alerts, health, triggers

#: jobs whose one-off run is a dry run unless --commit is given
PREVIEWED = ("alerts", "health")

_OWED = """
SELECT count(*) FROM alert_events
WHERE status = 'pending' OR (status = 'failed' AND created_at > $1)"""


async def preview(ctx: Any, name: str, out: TextIO) -> int:
    """The dry run of `name` (one of PREVIEWED); exit status 0 when it would go well."""
    if name == "alerts":
        return await _alerts(ctx, out)
    return await _health(ctx, out)


async def _alerts(ctx: Any, out: TextIO) -> int:
    cfg, now = ctx.cfg, ctx.clock()
    settings = alerts.AlertSettings.from_config(cfg.alerts, triggers.timezone(cfg.jobs.timezone))
    events = await alerts.preview(ctx.pool, settings, now)
    owed = await ctx.pool.fetchval(_OWED, now - settings.redeliver)
    out.write(
        f"alerts: dry run, nothing stored or sent (--commit runs it): "
        f"{len(events)} new event(s) from the stored rules\n"
    )
    for e in events:
        out.write(f"  {e['status']:<8} {e['title']}  [{e['rule'] or e['kind']}]\n")
    out.write(f"  already waiting for delivery: {owed} event(s)\n")
    return 0


async def _health(ctx: Any, out: TextIO) -> int:
    cfg, now = ctx.cfg, ctx.clock()
    result = await health.run(ctx.pool, cfg, ctx.live, ctx.inputs, now, record=False)
    change = await health.transition(ctx.pool, result, save=False)
    verdict = "ok" if result["ok"] else "failing"
    out.write(f"health: dry run, nothing recorded or sent (--commit runs it): {verdict}\n")
    for check, c in result["checks"].items():
        out.write(f"  {check:<17} {'ok' if c['ok'] else 'FAILING':<8} {c['detail']}\n")
    if change is None:
        out.write("  no change since the daemon's last verdict: nothing would be notified\n")
    else:
        out.write(f"  a change the daemon's next check notifies: {change[0]}\n")
    return 0 if result["ok"] else 1
