"""Logging: one line per event, text or JSON, and never a token or a message body at INFO."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from backend.config import Settings
from backend.protocol import utc_timestamp

# uvicorn logs every request and WebSocket handshake with its query string, where browsers must
# put tokens. Names are compared *decoded*, as Starlette reads them: `?%74oken=` is `token`. A
# name that merely holds one of these words is redacted too (`token%00`, `x;token`, `token[]`):
# the server ignores such a parameter, but the secret a client put in it is one all the same.
_SECRET_WORDS = ("token", "password", "session", "secret")
_PARAM = re.compile(r"(?<=[?&])([^=&\s\"'#]*)=([^&\s\"'#]*)")


def _redact_pair(match: re.Match[str]) -> str:
    name = unquote_plus(match.group(1)).strip().lower()
    secret = any(word in name for word in _SECRET_WORDS)
    return f"{match.group(1)}=[redacted]" if secret else match.group(0)


def redact(text: str) -> str:
    """`text` with the values of secret query parameters replaced, however they are encoded."""
    if "=" not in text or ("?" not in text and "&" not in text):
        return text
    return _PARAM.sub(_redact_pair, text)


class RedactSecrets(logging.Filter):
    """Replaces the values of secret query parameters in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": utc_timestamp(datetime.fromtimestamp(record.created, UTC)),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    """Set up the `desafio` loggers and redact secrets from uvicorn's."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("desafio")
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    root.propagate = False
    redact = RedactSecrets()
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(redact)
