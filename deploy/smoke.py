"""Smoke test of a running store over HTTP, as a browser behind the TLS proxy would see it.

python deploy/smoke.py http://127.0.0.1:PORT [--reset-email EMAIL --mail-dir DIR]
(exits non-zero and says why on the first failure). With --reset-email, it asks for a password
reset for that account and waits for the email worker to write the email, once, into DIR (the
store's EMAIL_URL being filemail:// to that folder).
"""

import argparse
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HTTPS = {"X-Forwarded-Proto": "https"}


def fetch(url, headers=HTTPS, data=None):
    request = urllib.request.Request(url, headers=headers, data=data)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(request, timeout=10)
    except urllib.error.HTTPError as error:
        response = error
    return response.status, dict(response.headers), response.read().decode("utf-8", "replace")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}")
        sys.exit(1)
    print(f"ok   {message}")


def main(base):
    status, headers, html = fetch(f"{base}/")
    check(status == 200, "home page answers 200 over HTTPS")
    csp = headers.get("Content-Security-Policy", "")
    check("default-src 'self'" in csp and "unsafe-inline" not in csp, "strict CSP")
    check("frame-ancestors 'none'" in csp, "CSP forbids framing")
    check(headers.get("Strict-Transport-Security", "").startswith("max-age="), "HSTS")
    check(headers.get("X-Frame-Options") == "DENY", "X-Frame-Options DENY")
    check(headers.get("X-Content-Type-Options") == "nosniff", "nosniff")
    check(headers.get("Referrer-Policy") == "same-origin", "Referrer-Policy")
    check(headers.get("Cross-Origin-Opener-Policy") == "same-origin", "COOP")
    check(bool(headers.get("X-Request-ID")), "request id echoed")

    status, headers, _ = fetch(f"{base}/products/", headers={})
    check(status == 301 and headers.get("Location", "").startswith("https://"), "HTTP -> HTTPS")

    for path in ("/products/", "/products/?q=lantern", "/cart/", "/accounts/login/"):
        status, _, _ = fetch(base + path)
        check(status == 200, f"{path} answers 200")
    status, _, body = fetch(f"{base}/no/such/page/")
    check(status == 404 and "We could not find that page" in body, "styled 404")
    status, _, body = fetch(f"{base}/readyz")
    check(status == 200 and '"database": "ok"' in body, "readyz: database and cache answer")

    stylesheet = re.search(r'href="(/static/css/shop\.[0-9a-f]{12}\.css)"', html)
    check(stylesheet is not None, "stylesheet has a hashed name (manifest storage)")
    status, headers, _ = fetch(
        base + stylesheet.group(1), headers={**HTTPS, "Accept-Encoding": "gzip"}
    )
    check(status == 200, "static file served by WhiteNoise")
    check("max-age=315360000" in headers.get("Cache-Control", ""), "static file cached for years")
    check(headers.get("Content-Encoding") == "gzip", "static file served compressed")


def emails_to(address, mail_dir):
    """The messages to `address` that the file mail backend wrote into mail_dir."""
    separator = "\n" + "-" * 79 + "\n"
    return [
        message
        for path in sorted(Path(mail_dir).glob("*.log"))
        for message in path.read_text().split(separator)
        if f"\nTo: {address}\n" in message
    ]


def password_reset_is_emailed_by_the_worker(base, address, mail_dir):
    page = f"{base}/accounts/password/reset/"
    status, headers, html = fetch(page)
    check(status == 200, "password reset page answers 200")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    # The cookie is Secure; this plain-HTTP client sends it back by hand.
    cookie = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", "")).group(1)
    origin = "https://" + urllib.parse.urlsplit(base).netloc
    status, headers, _ = fetch(
        page,
        headers={**HTTPS, "Cookie": f"csrftoken={cookie}", "Origin": origin, "Referer": page},
        data=urllib.parse.urlencode({"csrfmiddlewaretoken": token, "email": address}).encode(),
    )
    check(
        status == 302 and headers.get("Location", "").endswith("/accounts/password/reset/sent/"),
        "password reset request accepted",
    )

    deadline = time.monotonic() + 30
    while not emails_to(address, mail_dir) and time.monotonic() < deadline:
        time.sleep(0.25)
    time.sleep(2)  # long enough for a second copy, were the worker to send one
    messages = emails_to(address, mail_dir)
    check(len(messages) == 1, "the email worker sent the reset email, once")
    link = f"{origin}/accounts/password/reset/"
    check(link in messages[0], "the email holds a reset link on this host over HTTPS")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("--reset-email", help="an account's email, to test the email worker")
    parser.add_argument("--mail-dir", help="where the store's filemail:// backend writes")
    args = parser.parse_args()
    main(args.base.rstrip("/"))
    if args.reset_email:
        password_reset_is_emailed_by_the_worker(
            args.base.rstrip("/"), args.reset_email, args.mail_dir
        )
    print("smoke test passed")
