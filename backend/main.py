"""The ASGI app, for `python -m uvicorn backend.main:app --host 0.0.0.0 --port 8765`."""

from backend.app import create_app

app = create_app()
