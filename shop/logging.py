"""Log records for people and machines: a request id on every line, JSON in production, and
known secrets masked before anything is written."""

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

request_id = contextvars.ContextVar("request_id", default="-")

# Values that must never reach a log line, whatever logged them.
SECRET_PATTERNS = [
    re.compile(r"\b(sk|rk)_(live|test)_[A-Za-z0-9]+"),
    re.compile(r"\bwhsec_[A-Za-z0-9_]+"),
    re.compile(
        r"(?i)(password|passwd|secret|token|csrfmiddlewaretoken)(['\"]?\s*[:=]\s*['\"]?)[^\s'\",&]+"
    ),
    re.compile(r"\b(?:\d[ -]?){13,19}\b"),  # anything shaped like a card number
]
MASK = "[redacted]"


def redact(text):
    for pattern in SECRET_PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
        else:
            text = pattern.sub(MASK, text)
    return text


class RequestContextFilter(logging.Filter):
    """Adds the current request id to every record, and masks secrets in the message."""

    def filter(self, record):
        record.request_id = request_id.get()
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# Attributes every LogRecord has; anything else was passed with `extra=` and is worth keeping.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


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
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = (
                    value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
                )
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def formatException(self, ei):
        return redact(super().formatException(ei))
