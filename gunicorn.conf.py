"""gunicorn settings, from the environment (see README, "Deploying")."""

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so a slow leak never becomes an outage.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))
# The store logs each request itself (with its request id); gunicorn logs only its own events.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Which proxies may tell us the client's address and scheme.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Heartbeat files in memory, not on a possibly slow container disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 -- per-process heartbeat files, not shared data

# Prometheus multiprocess mode (shop.metrics): each worker writes its counts to files in this
# directory and a scrape of any worker adds up every file. prometheus_client reads the variable
# once, when a worker first imports it, so it is set here, in the master, before any worker
# starts. Unset: a new directory in memory, for this gunicorn alone, removed when it stops.
METRICS_DIR_PREFIX = "shop-metrics-"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # In memory, as the heartbeat files; mkdtemp makes it private to this user.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix=METRICS_DIR_PREFIX, dir=worker_tmp_dir
    )
# A directory the operator named may not exist yet (a fresh tmpfs); workers fail without it.
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)


def on_starting(server):
    """Count from zero: files left by an earlier run would add its counts to this one's."""
    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    """A worker is gone: its counts join the merged files, its live gauges leave the sum."""
    from prometheus_client import multiprocess

    from shop.metrics import merge_dead_worker

    multiprocess.mark_process_dead(worker.pid)
    try:
        merge_dead_worker(Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]), worker.pid)
    except Exception:
        # Its files stay and are still counted, only read at every scrape; the master must
        # go on managing workers whatever the files hold.
        server.log.exception("metrics of worker %s could not be merged", worker.pid)


def on_exit(server):
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if directory.name.startswith(METRICS_DIR_PREFIX):
        shutil.rmtree(directory, ignore_errors=True)
