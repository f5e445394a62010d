"""A PostgreSQL server and a Redis server of a test's own, on free loopback ports, that the test may
stop and start again (the shared ones on 5432 and 6379 must stay up for the rest of the suite)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.fakes.server_thread import free_port


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """`initdb` in a temporary folder and `pg_ctl` to start and stop it (as the `postgres` user when
    the tests run as root, which PostgreSQL refuses to be)."""

    def __init__(self) -> None:
        binaries = _postgres_bin()
        as_postgres = os.getuid() == 0
        if binaries is None or (as_postgres and not shutil.which("runuser")):
            pytest.skip(
                "a private PostgreSQL needs Debian's postgresql binaries (/usr/lib/postgresql/*/bin) and runuser when root"
            )
        self._bin = binaries
        self._prefix = ["runuser", "-u", "postgres", "--"] if as_postgres else []
        self.folder = Path(tempfile.mkdtemp(prefix="anygate-pg-"))  # not under pytest's folders, which root keeps to itself
        self.data = self.folder / "pgdata"
        self.port = free_port()
        self.data.mkdir()
        if as_postgres:
            shutil.chown(self.folder, "postgres")
            shutil.chown(self.data, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._prefix, str(self._bin / tool), *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        """Start the server and wait until it takes connections."""
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-l", str(self.data / "log"), "start")

    def stop(self) -> None:
        """Stop it at once (connections are cut, as in a crash or a failover)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        """Stop it if it runs, and delete its files."""
        subprocess.run(
            [*self._prefix, str(self._bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    """`redis-server` on a free port, without persistence."""

    def __init__(self) -> None:
        if not shutil.which("redis-server"):
            pytest.skip("a private Redis needs redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it answers."""
        self._proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.time() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout.strip() != b"PONG":
            if time.time() > deadline:
                raise AssertionError("the private Redis did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """Kill it (what it held is gone, as in a crash)."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(10)
