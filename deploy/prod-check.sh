#!/usr/bin/env bash
# The production configuration, proved without Docker: collectstatic, check --deploy,
# migrations on a fresh PostgreSQL database, gunicorn with production settings, and a smoke test
# of pages, headers and static files over HTTP. Used by `make prod-check` and CI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PORT=${PROD_CHECK_PORT:-18765}
DB=shop_prod_check

export ENV_FILE= DEBUG=false
export SECRET_KEY="$($PY -c 'import secrets; print(secrets.token_urlsafe(64))')"
export ALLOWED_HOSTS=127.0.0.1,localhost
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
export REDIS_URL=redis://127.0.0.1:6379/14
export EMAIL_URL=consolemail://
export STRIPE_SECRET_KEY=sk_test_prod_check STRIPE_WEBHOOK_SECRET=whsec_prod_check
export TRUST_X_FORWARDED_PROTO=true CLIENT_IP_HEADER=X-Real-IP
export MEDIA_ROOT="$(mktemp -d)"
export GUNICORN_WORKERS=2 LOG_FORMAT=json

$PY - <<PYEOF
import psycopg
with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
    conn.execute("DROP DATABASE IF EXISTS $DB")
    conn.execute("CREATE DATABASE $DB")
PYEOF

echo "== collectstatic"; $PY manage.py collectstatic --noinput --verbosity 0
echo "== check --deploy"; $PY manage.py check --deploy --fail-level WARNING
echo "== migrate"; $PY manage.py migrate --noinput --verbosity 0
$PY manage.py seed_demo --products 30 --verbosity 0

echo "== gunicorn"
$PY -m gunicorn -c gunicorn.conf.py --bind "127.0.0.1:$PORT" shop.wsgi:application > /tmp/prod-check-gunicorn.log 2>&1 &
GUNICORN=$!
trap 'kill $GUNICORN 2>/dev/null || true; wait $GUNICORN 2>/dev/null || true' EXIT
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
$PY deploy/smoke.py "http://127.0.0.1:$PORT"
