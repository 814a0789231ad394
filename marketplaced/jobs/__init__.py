"""Scheduled jobs of the daemon: analytics, alerts, coverage, health, vacuum, retention.

The package holds one module per job plus what runs them: `service.Jobs` (the daemon's
scheduled-jobs service), `scheduler` (APScheduler and the job ledger), `commands`
(`marketplaced jobs list|run`) and `config` (the [jobs], [alerts], [health] and [retention]
sections). Nothing is imported here, so importing one job module or the config sections costs
only what that module uses.
"""
