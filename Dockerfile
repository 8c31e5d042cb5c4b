# Production image: gunicorn serving the store (gunicorn.conf.py), static files through WhiteNoise.
# Configuration comes from the environment at run time (README, "Configuration").
#
# The same image runs the email worker, which sends what the email outbox queued; run at least one
# beside the web containers, with the same environment:
#   docker run --no-healthcheck --stop-timeout 60 IMAGE python manage.py db_worker
# (no health check: it serves no HTTP; the stop timeout lets it finish the email it is sending,
# which takes at most a few times EMAIL_TIMEOUT, instead of being killed half-way.)

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install -r /tmp/requirements.txt

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=shop.settings \
    ENV_FILE=
RUN useradd --system --create-home --uid 10001 shop \
    && mkdir -p /srv/shop/media && chown shop:shop /srv/shop/media
COPY --from=build /venv /venv
WORKDIR /app
COPY --chown=shop:shop . .
# collectstatic needs settings but no services: placeholders used at build time only.
RUN DEBUG=false SECRET_KEY=build-only ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:////tmp/build.db \
    REDIS_URL=redis://localhost:6379/0 EMAIL_URL=consolemail:// \
    STRIPE_SECRET_KEY=sk_build STRIPE_WEBHOOK_SECRET=whsec_build \
    python manage.py collectstatic --noinput --verbosity 0
USER shop
ENV MEDIA_ROOT=/srv/shop/media PORT=8000
VOLUME ["/srv/shop/media"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s \
    CMD python -c "import os, sys, urllib.request; sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=2).status != 200)"
CMD ["gunicorn", "-c", "gunicorn.conf.py", "shop.wsgi:application"]
