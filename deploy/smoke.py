"""Smoke test of a running store over HTTP, as a browser behind the TLS proxy would see it.

python deploy/smoke.py http://127.0.0.1:PORT   (exits non-zero and says why on the first failure)
"""

import re
import sys
import urllib.error
import urllib.request

HTTPS = {"X-Forwarded-Proto": "https"}


def fetch(url, headers=HTTPS):
    request = urllib.request.Request(url, headers=headers)
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
    print("smoke test passed")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
