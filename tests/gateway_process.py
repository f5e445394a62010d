"""Running the real `anygate` command against a config file, as a user would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
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


# `keys create` options -> (admin API field, conversion)
_KEY_OPTIONS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "--models": ("models", lambda v: [m.strip() for m in v.split(",") if m.strip()]),
    "--rpm": ("rpm", int),
    "--tpm": ("tpm", int),
    "--rpd": ("rpd", int),
    "--tpd": ("tpd", int),
    "--concurrency": ("max_concurrency", int),
    "--budget": ("budget_usd", float),
    "--expires": ("expires_at", str),
}


class GatewayProcess:
    """`anygate serve` in a subprocess on a free loopback port, with helpers to make keys."""

    def __init__(self, workdir: Path, config: dict[str, Any], env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.env = env or {}  # added to the test's own environment
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
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
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

    def create_key(self, *extra: str, cli: bool = False) -> dict[str, Any]:
        """Create a key from `keys create` options; returns its JSON (with `key` and `id`). Through the
        admin API of the running gateway when it has an admin key (a CLI run costs a second of imports),
        else, or when `cli` is asked for, with the CLI."""
        admin_key = self.config.get("admin_key")
        if cli or not admin_key or self.proc is None or self.proc.poll() is not None:
            result: dict[str, Any] = json.loads(self.cli("keys", "create", "--name", "test", *extra, "--json").stdout)
            return result
        body: dict[str, Any] = {"name": "test"}
        for option, value in zip(extra[::2], extra[1::2], strict=True):
            field, convert = _KEY_OPTIONS[option]
            body[field] = convert(value)
        request = urllib.request.Request(
            self.url + "/admin/v1/keys",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {admin_key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            created: dict[str, Any] = json.loads(resp.read())
        return created
