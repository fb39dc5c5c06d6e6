"""gunicorn's settings for the teaching file (docs/deployment.md): ``gunicorn -c deploy/gunicorn.conf.py``.

Each value can be changed from the environment (systemd's EnvironmentFile, deploy/teachingfile.env.example)
without editing this file. Behind nginx on the same host, which buffers request bodies and responses, so sync
workers never wait on a slow client.
"""

import os

wsgi_app = "teachingfile.wsgi:application"

# nginx on the same host talks to this address; a load balancer talks to nginx, never to gunicorn directly.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# A page costs 3 to 25 ms of CPU and a few ms waiting on PostgreSQL: two processes per core keep the cores busy
# while some wait. Each process holds ~100 MB; the task worker's import processes need the rest of the memory.
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1)))
worker_class = "sync"

# An upload of a whole study (up to nginx's client_max_body_size, 2 GB) reaches gunicorn from nginx's buffer at
# disk speed; Django spools it and the request moves it into the upload spool: a minute for the largest on a slow
# disk. Five minutes before a stuck worker is killed; 30 s for a request to finish on a restart.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 300))
graceful_timeout = 30
keepalive = 5  # nginx keeps connections to the upstream open (deploy/nginx/teachingfile.conf)

# Replace each process after some thousands of requests (jittered so they do not restart together): a leak in a
# library cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500

# Heartbeat files in memory, not on a disk that may stall (gunicorn's advice under systemd and containers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Logs to standard error, collected by the journal. The access log leaves out query strings and referrers
# (search terms and filters may carry what a person typed, such as a name) and the client's address (nginx
# logs it): method, path, status, bytes, milliseconds.
accesslog = "-"
errorlog = "-"
access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'

# Only nginx on this host may set X-Forwarded-Proto and friends that gunicorn reads (Django reads its own,
# settings.SECURE_PROXY_SSL_HEADER and TEACHINGFILE_TRUSTED_PROXIES).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# gunicornc's control socket would be made under the service user's home: not needed under systemd.
control_socket_disable = True

proc_name = "teachingfile"
