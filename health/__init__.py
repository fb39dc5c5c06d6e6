"""Load balancers' probes: ``/healthz`` (the process answers) and ``/readyz`` (its database, cache, media storage
and task queue answer too)."""
