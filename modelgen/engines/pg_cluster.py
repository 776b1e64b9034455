"""A throwaway PostgreSQL cluster for tests and ``verify``: ``initdb`` + ``pg_ctl`` in a temp dir.

The server refuses to run as root, so under root every server command runs as an unprivileged
user (``postgres`` if it exists, else ``nobody``) through ``runuser``. The cluster listens on
127.0.0.1 on a free port with its unix socket in the temp dir and trust authentication; it is
stopped and deleted by :func:`stop_cluster` (tests: a session fixture) and at interpreter exit.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from modelgen.errors import ModelgenError

SEARCH_DIRS = ("/usr/local/bin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/pgsql-15/bin")
"""Where the server binaries are looked for after ``PATH``."""

_SERVER_USERS = ("postgres", "nobody")


@dataclass
class PgCluster:
    """A running cluster: ``conninfo`` is a libpq connection string for its ``postgres`` database."""

    root: Path
    port: int
    pg_ctl: str
    user: str | None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def conninfo(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=modelgen dbname=postgres"


def find_binary(name: str) -> str:
    """The path of PostgreSQL's ``name`` (``initdb``, ``pg_ctl``); a clear error when absent."""
    found = shutil.which(name)
    if found:
        return found
    for directory in SEARCH_DIRS:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise ModelgenError(
        f"PostgreSQL server binary {name!r} not found on PATH or in {', '.join(SEARCH_DIRS)}: "
        "install PostgreSQL 15 (Debian: apt-get install postgresql-15) to run the sql:postgres target"
    )


def _server_user() -> str | None:
    # the postmaster exits when started as root; None = run as ourselves
    if os.geteuid() != 0:
        return None
    for name in _SERVER_USERS:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise ModelgenError("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(argv: list[str], user: str | None) -> None:
    command = ["runuser", "-u", user, "--", *argv] if user else argv
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd="/")
    if result.returncode != 0:
        raise ModelgenError(f"{' '.join(argv[:2])} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


def start_cluster() -> PgCluster:
    """``initdb`` a fresh cluster in a temp dir and start it; raises ``ModelgenError`` on failure."""
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="modelgen-pg-"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    cluster = PgCluster(root=root, port=_free_port(), pg_ctl=pg_ctl, user=user)
    try:
        # --no-sync / fsync=off: a throwaway cluster never needs durability, and start-up stays ~1-2 s
        _run([initdb, "-D", str(cluster.data_dir), "-U", "modelgen", "-A", "trust", "-E", "UTF8",
              "--locale=C", "--no-sync", "--no-instructions"], user)
        options = (
            f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=20"
        )
        _run([pg_ctl, "-D", str(cluster.data_dir), "-l", str(root / "server.log"), "-o", options, "-w",
              "-t", "60", "start"], user)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return cluster


def stop(cluster: PgCluster) -> None:
    """Stop the server (immediate: nothing to keep) and delete its directory."""
    try:
        if (cluster.data_dir / "postmaster.pid").exists():
            _run([cluster.pg_ctl, "-D", str(cluster.data_dir), "-m", "immediate", "-w", "stop"], cluster.user)
    finally:
        shutil.rmtree(cluster.root, ignore_errors=True)


_CLUSTER: list[PgCluster] = []


def get_cluster() -> PgCluster:
    """The process's shared cluster, started on first use and stopped at exit."""
    if not _CLUSTER:
        _CLUSTER.append(start_cluster())
        atexit.register(stop_cluster)
    return _CLUSTER[0]


def stop_cluster() -> None:
    """Stop and delete the shared cluster if one is running (safe to call twice)."""
    while _CLUSTER:
        stop(_CLUSTER.pop())
