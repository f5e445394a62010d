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
        self._started = False  # once it has served, a restart must keep its port
        self.log_path = workdir / "gateway.log"

    @property
    def url(self) -> str:
        """The gateway's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, *serve_args: str) -> GatewayProcess:
        """Start the gateway (with extra `serve` arguments) and wait until it says it listens on its
        port and /health answers. A free port can be taken by another test's server before the gateway
        binds it (the tests run in parallel); then, on a first start, the gateway is started on another
        port. The listening line is what tells this gateway from another server answering on the port."""
        for _ in range(5):
            if self._launch(serve_args):
                self._started = True
                return self
            self.port = free_port()
        raise AssertionError(f"gateway found no free port:\n{self.log()}")

    def _launch(self, serve_args: tuple[str, ...]) -> bool:
        """Start the process; True once it serves, False when its port was taken before a first start."""
        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "a")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "anygate", "serve", "--config", str(self.config_path), "--port", str(self.port), *serve_args],
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
        )
        listening = f"anygate listening on http://127.0.0.1:{self.port} "
        deadline = time.time() + 30
        while time.time() < deadline:
            printed = self.log_path.read_bytes()[log_start:].decode(errors="replace")
            if self.proc.poll() is not None:
                if f"127.0.0.1:{self.port} is in use" in printed and not self._started:
                    return False
                raise AssertionError(f"gateway exited at start:\n{self.log()}")
            if listening in printed and self._health():
                return True
            time.sleep(0.05)
        raise AssertionError(f"gateway did not start:\n{self.log()}")

    def _health(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=1) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

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
