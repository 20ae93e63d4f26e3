"""The real Pub/Sub emulator for tests: started in its own process group, killed as a group.

The emulator is found under the Cloud SDK root (``gcloud info``), or under
``CLOUDSDK_ROOT`` when set. It keeps everything in memory, so each test
makes its own topics and subscriptions from a uuid (``Emulator.names``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

__all__ = ["PROJECT", "Emulator", "emulator_binary"]

PROJECT = "newswatch-test"


def emulator_binary() -> Path | None:
    root = os.environ.get("CLOUDSDK_ROOT")
    if not root and shutil.which("gcloud"):
        out = subprocess.run(
            ["gcloud", "info", "--format=value(installation.sdk_root)"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        root = out.stdout.strip()
    if not root:
        return None
    binary = Path(root) / "platform" / "pubsub-emulator" / "bin" / "cloud-pubsub-emulator"
    return binary if binary.is_file() else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Emulator:
    """A running emulator; ``host`` is what ``PUBSUB_EMULATOR_HOST`` must say."""

    def __init__(self, binary: Path, log_path: Path) -> None:
        self.port = _free_port()
        self.host = f"127.0.0.1:{self.port}"
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen(
            [str(binary), "--host=127.0.0.1", f"--port={self.port}"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Java outlives a killed wrapper
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"Pub/Sub emulator exited with {self._proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)  # polling for the port to open, with a deadline
        raise RuntimeError(f"Pub/Sub emulator did not listen on {self.host} in {timeout:g} s")

    def names(self, prefix: str = "t") -> tuple[str, str]:
        """A fresh (topic path, subscription path) pair in :data:`PROJECT`."""
        tag = uuid.uuid4().hex[:12]
        return (
            f"projects/{PROJECT}/topics/{prefix}-{tag}",
            f"projects/{PROJECT}/subscriptions/{prefix}-{tag}",
        )

    def stop(self) -> None:
        try:
            os.killpg(self._proc.pid, signal.SIGTERM)
            self._proc.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=20)
        finally:
            self._log.close()
