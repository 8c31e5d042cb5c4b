# Production image: gunicorn serving the store, static files through WhiteNoise.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install -r /tmp/requirements.txt

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=shop.settings
RUN useradd --system --create-home --uid 10001 shop
COPY --from=build /venv /venv
WORKDIR /app
COPY --chown=shop:shop . .
# collectstatic needs settings but no services: build-time placeholders, never used at run time.
RUN DEBUG=false SECRET_KEY=build-only ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:///tmp/build.db \
    REDIS_URL=redis://localhost:6379/0 EMAIL_URL=consolemail:// \
    python manage.py collectstatic --noinput --verbosity 0
USER shop
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
CMD ["gunicorn", "shop.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-"]
