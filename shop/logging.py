"""Log records for people and machines: a request id on every line, JSON in production, and
known secrets masked before anything is written."""

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

request_id = contextvars.ContextVar("request_id", default="-")

MASK = "[redacted]"

# Values that must never reach a log line, whatever logged them, each with what replaces it.
SECRET_PATTERNS = [
    (re.compile(r"\b(sk|rk)_(live|test)_[A-Za-z0-9]+"), MASK),
    (re.compile(r"\bwhsec_[A-Za-z0-9_]+"), MASK),
    (
        re.compile(
            r"(?i)(password|passwd|secret|token|csrfmiddlewaretoken)(['\"]?\s*[:=]\s*['\"]?)"
            r"[^\s'\",&]+"
        ),
        rf"\1\2{MASK}",
    ),
    (re.compile(r"\b(?:\d[ -]?){13,19}\b"), MASK),  # anything shaped like a card number
    # A password-reset link (/accounts/password/reset/<uidb64>/<token>/) lets whoever reads it
    # set the account's password. The one-segment pages (sent/, complete/) stay readable.
    (re.compile(r"(/password/reset/)[^/\s'\"?#]+/[^/\s'\"?#]+"), rf"\1{MASK}/{MASK}"),
]


def redact(text):
    for pattern, replacement in SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


# Attributes every LogRecord has; anything else was passed with `extra=` and is worth keeping.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _extras(record):
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD and not key.startswith("_")
    }


class RequestContextFilter(logging.Filter):
    """Adds the current request id to every record, and masks secrets in the message and in
    the text fields passed with `extra=` (the request line's `path`)."""

    def filter(self, record):
        record.request_id = request_id.get()
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        for key, value in _extras(record).items():
            if isinstance(value, str):
                setattr(record, key, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            if not isinstance(value, (str, int, float, bool, type(None))):
                # RequestContextFilter masked the strings; an object's text can hold the same
                # secrets: Django's `request` extra prints as "<WSGIRequest: GET '/path'>".
                value = redact(str(value))
            entry[key] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def formatException(self, ei):
        return redact(super().formatException(ei))


def sentry_before_send(event, hint):
    """Mask the request line of an error report as the logs are masked (reset links, tokens)."""
    request = event.get("request") or {}
    for key in ("url", "query_string"):
        if isinstance(request.get(key), str):
            request[key] = redact(request[key])
    if isinstance(event.get("transaction"), str):
        event["transaction"] = redact(event["transaction"])
    return event
