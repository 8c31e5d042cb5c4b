#!/usr/bin/env bash
# The production configuration, proved without Docker: collectstatic, check --deploy,
# migrations on a fresh PostgreSQL database, gunicorn and the email worker with production
# settings, and a smoke test over HTTP of pages, headers, static files and an email the worker
# sends. Used by `make prod-check` and CI.
#
# PROD_CHECK_DB: the database, dropped and created again (default shop_prod_check).
# PROD_CHECK_REDIS_URL: the cache (default redis://127.0.0.1:6379/14). PROD_CHECK_PORT: gunicorn's.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PORT=${PROD_CHECK_PORT:-18765}
DB=${PROD_CHECK_DB:-shop_prod_check}
# The name goes into DROP DATABASE: a plain identifier only.
if [[ ! $DB =~ ^[a-z_][a-z0-9_]*$ ]]; then
    echo "PROD_CHECK_DB must be a plain database name (a-z, 0-9, _), not '$DB'." >&2
    exit 2
fi
WORK=$(mktemp -d)  # logs, the emails the worker writes, uploaded media

export ENV_FILE= DEBUG=false
export SECRET_KEY="$($PY -c 'import secrets; print(secrets.token_urlsafe(64))')"
export ALLOWED_HOSTS=127.0.0.1,localhost
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
export REDIS_URL=${PROD_CHECK_REDIS_URL:-redis://127.0.0.1:6379/14}
# Each email the worker sends is written as a file there, for the smoke test to find.
export EMAIL_URL="filemail:///$WORK/mail"
export STRIPE_SECRET_KEY=sk_test_prod_check STRIPE_WEBHOOK_SECRET=whsec_prod_check
export TRUST_X_FORWARDED_PROTO=true CLIENT_IP_HEADER=X-Real-IP
export MEDIA_ROOT="$WORK/media"
export GUNICORN_WORKERS=2 LOG_FORMAT=json
export DJANGO_SUPERUSER_EMAIL=owner@prod-check.example.com
export DJANGO_SUPERUSER_PASSWORD="$($PY -c 'import secrets; print(secrets.token_urlsafe(16))')"

$PY - <<PYEOF
import psycopg
with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
    conn.execute("DROP DATABASE IF EXISTS $DB")
    conn.execute("CREATE DATABASE $DB")
PYEOF

echo "== collectstatic"; $PY manage.py collectstatic --noinput --verbosity 0
echo "== check --deploy"; $PY manage.py check --deploy --fail-level WARNING
echo "== migrate"; $PY manage.py migrate --noinput --verbosity 0
$PY manage.py seed_admin > /dev/null
$PY manage.py seed_demo --products 30 --verbosity 0

echo "== gunicorn and the email worker (logs in $WORK)"
$PY -m gunicorn -c gunicorn.conf.py --bind "127.0.0.1:$PORT" shop.wsgi:application > "$WORK/gunicorn.log" 2>&1 &
GUNICORN=$!
$PY manage.py db_worker > "$WORK/worker.log" 2>&1 &
WORKER=$!
stop() {
    status=$?
    kill $GUNICORN $WORKER 2>/dev/null || true
    wait $GUNICORN $WORKER 2>/dev/null || true
    if [ $status -eq 0 ]; then rm -rf "$WORK"; else echo "Logs kept in $WORK" >&2; fi
}
trap stop EXIT
$PY - <<PYEOF
import time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen("http://127.0.0.1:$PORT/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.2)
PYEOF

echo "== smoke test"
$PY deploy/smoke.py "http://127.0.0.1:$PORT" --reset-email "$DJANGO_SUPERUSER_EMAIL" --mail-dir "$WORK/mail"
