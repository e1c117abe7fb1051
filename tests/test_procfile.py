"""`honcho start` runs the product from the Procfile: the backend and the dashboard, on the ports
BACKEND_PORT and DASHBOARD_PORT say, the dashboard talking to that backend."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.server import ROOT, free_port


def test_honcho_start_runs_the_backend_and_the_dashboard_on_the_configured_ports(
    tmp_path: Path,
) -> None:
    backend, dashboard = free_port(), free_port()
    env = {
        **os.environ,
        "BACKEND_PORT": str(backend),
        "DASHBOARD_PORT": str(dashboard),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/procfile.db",
        "HOME": str(tmp_path),  # Streamlit writes its machine id and config under ~
    }
    honcho = Path(sys.executable).parent / "honcho"
    proc = subprocess.Popen(
        [str(honcho), "start"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        answers: dict[str, int] = {}
        urls = {
            "backend": f"http://127.0.0.1:{backend}/readyz",
            "dashboard": f"http://127.0.0.1:{dashboard}/_stcore/health",
        }
        while time.monotonic() < deadline and len(answers) < len(urls):
            assert proc.poll() is None, "honcho exited while starting"
            for name, url in urls.items():
                try:
                    if httpx.get(url, timeout=1).status_code == 200:
                        answers[name] = 200
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
        assert answers == {"backend": 200, "dashboard": 200}
        welcome = httpx.get(f"http://127.0.0.1:{backend}/").json()
        assert welcome == {"message": "Bem-vindo ao servidor WebSocket"}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
