"""Write a development `.env` with fresh secrets: `python -m shop.devenv .env`.

Used by `make run` on first start. It never overwrites an existing file.
"""

import secrets
import sys
from pathlib import Path

TEMPLATE = """\
# Development settings written by `make run`. Not for production: see .env.example.
DEBUG=true
SECRET_KEY={secret_key}
# No DATABASE_URL: the store uses SQLite in db.sqlite3 next to manage.py.
# DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop
ALLOWED_HOSTS=localhost,127.0.0.1,[::1]
EMAIL_URL=consolemail://
DJANGO_SUPERUSER_EMAIL=admin@example.com
DJANGO_SUPERUSER_PASSWORD={admin_password}
"""


def main(path):
    target = Path(path)
    if target.exists():
        print(f"{target} exists; leaving it as it is.")
        return
    target.write_text(
        TEMPLATE.format(
            secret_key=secrets.token_urlsafe(50),
            admin_password=secrets.token_urlsafe(12),
        )
    )
    target.chmod(0o600)
    print(f"Wrote {target} with a new SECRET_KEY and admin password.")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".env")
