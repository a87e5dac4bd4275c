"""A real PgBouncer for tests, in transaction pooling mode, in front of the local PostgreSQL.

Debian's ``pgbouncer`` (1.18 on Debian 12: it does not track prepared
statements) runs in the foreground on a free port with a configuration in
a temporary folder. PostgreSQL here trusts local connections, so PgBouncer
trusts its clients too (``auth_type = trust``: the user must still be
listed in the auth file) and logs in to PostgreSQL without a password.
The server pool is smaller than the clients' pools, so server connections
really are shared between clients from one transaction to the next.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.servers import free_port

SERVER_POOL_SIZE = 8

CONFIG = """\
[databases]
* = host={pg_host} port={pg_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {dir}/userlist.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 1000
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = {dir}/pgbouncer.log
log_connections = 0
log_disconnections = 0
"""


class PrivatePgBouncer:
    """One ``pgbouncer`` process of our own, pointing at PostgreSQL (default 127.0.0.1:5432)."""

    def __init__(self, pg_host: str = "127.0.0.1", pg_port: int = 5432) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="hub-pgbouncer-"))
        self.pg_host = pg_host
        self.pg_port = pg_port
        self.process: subprocess.Popen[bytes] | None = None

    def url_for(self, database_url: str) -> str:
        """``database_url`` (a PostgreSQL URL) with PgBouncer's address in place of the server's."""
        parts = urlsplit(database_url)
        user = parts.username or "postgres"
        return urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{self.port}"))

    def start(self, timeout: float = 15) -> PrivatePgBouncer:
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not Path(binary).exists():
            raise RuntimeError("pgbouncer is not installed (apt-get install pgbouncer)")
        config = self.dir / "pgbouncer.ini"
        config.write_text(
            CONFIG.format(
                pg_host=self.pg_host,
                pg_port=self.pg_port,
                port=self.port,
                dir=self.dir,
                pool_size=SERVER_POOL_SIZE,
            )
        )
        (self.dir / "userlist.txt").write_text('"postgres" ""\n')
        argv = [binary, str(config)]
        if os.geteuid() == 0:  # pgbouncer refuses to run as root
            shutil.chown(self.dir, "postgres")
            for path in self.dir.iterdir():
                shutil.chown(path, "postgres")
            argv[1:1] = ["-u", "postgres"]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited early:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pgbouncer did not start:\n{self.log()}")

    def log(self) -> str:
        path = self.dir / "pgbouncer.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def admin(self, command: str) -> list[dict[str, str]]:
        """Rows of a ``SHOW …`` command on PgBouncer's admin console (through ``psql``)."""
        address = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "pgbouncer"]
        result = subprocess.run(
            ["psql", *address, "-X", "-A", "-F", "\t", "-P", "footer=off", "-c", command],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        header, *rows = result.stdout.splitlines()
        names = header.split("\t")
        return [dict(zip(names, row.split("\t"), strict=True)) for row in rows if row]

    def stop(self) -> None:
        """Immediate shutdown (SIGTERM closes every connection); leaves no process behind."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
