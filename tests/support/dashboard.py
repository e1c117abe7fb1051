"""Start the real dashboard (`streamlit run dashboard/app.py`) on a free port, headless."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.server import ROOT, free_port, stop_process, wait_healthy

APP = ROOT / "dashboard" / "app.py"


def streamlit_env(backend_url: str, home: Path | None = None) -> dict[str, str]:
    """Headless, no usage statistics, no address lookups on the internet."""
    env = {
        **os.environ,
        "BACKEND_URL": backend_url,
        "STREAMLIT_SERVER_HEADLESS": "true",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
    }
    if home is not None:
        # Streamlit writes ~/.streamlit (machine id, credentials): keep tests off the real home.
        env["HOME"] = str(home)
    return env


class DashboardProcess:
    """One `streamlit run` of the dashboard, pointed at `backend_url`."""

    def __init__(self, backend_url: str, home: Path | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.env = streamlit_env(backend_url, home)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> DashboardProcess:
        # An explicit address keeps Streamlit from asking the internet for "the external URL".
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ]
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
        try:
            wait_healthy(self.proc, self.url + "/_stcore/health", "streamlit", timeout)
        except RuntimeError:
            self.stop()
            raise
        return self

    def rss_bytes(self) -> int:
        """Resident memory of the streamlit process, from /proc."""
        assert self.proc is not None
        with open(f"/proc/{self.proc.pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def stop(self) -> None:
        stop_process(self.proc)

    def __enter__(self) -> DashboardProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
