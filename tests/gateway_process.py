"""Running the real `anygate` command against a config file, as a user would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from tests.fakes.server_thread import free_port


def anygate(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run one `anygate` command and return its result."""
    result = subprocess.run([sys.executable, "-m", "anygate", *args], capture_output=True, text=True, cwd=cwd, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"anygate {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


class GatewayProcess:
    """`anygate serve` in a subprocess on a free loopback port, with helpers to make keys."""

    def __init__(self, workdir: Path, config: dict[str, Any]) -> None:
        self.workdir = workdir
        self.config = config
        self.config_path = workdir / "anygate.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.port = free_port()
        self.proc: subprocess.Popen[str] | None = None
        self.log_path = workdir / "gateway.log"

    @property
    def url(self) -> str:
        """The gateway's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, *serve_args: str) -> GatewayProcess:
        """Start the gateway (with extra `serve` arguments) and wait until /health answers."""
        log = open(self.log_path, "a")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "anygate", "serve", "--config", str(self.config_path), "--port", str(self.port), *serve_args],
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gateway exited at start:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"gateway did not start:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop the gateway with `sig` and return its exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def log(self) -> str:
        """Everything the gateway printed."""
        return self.log_path.read_text() if self.log_path.exists() else ""

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run an `anygate` command on this gateway's config."""
        return anygate(*args, "--config", str(self.config_path), cwd=self.workdir, check=check)

    def create_key(self, *extra: str) -> dict[str, Any]:
        """Create a key with the CLI; returns its JSON (with `key` and `id`)."""
        result: dict[str, Any] = json.loads(self.cli("keys", "create", "--name", "test", *extra, "--json").stdout)
        return result
