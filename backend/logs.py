"""Logging: one line per event, text or JSON, and never a token or a message body at INFO."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from backend.config import Settings

# uvicorn logs every WebSocket handshake with its query string, where browsers must put tokens.
_SECRET_PARAM = re.compile(r"((?:^|[?&])(?:token|access_token|password)=)[^&\s\"']*")


class RedactSecrets(logging.Filter):
    """Replaces the values of secret query parameters in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _SECRET_PARAM.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = _SECRET_PARAM.sub(r"\1[redacted]", record.msg)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
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
