"""A real local Redis Cluster for tests: 3 masters and 3 replicas of the machine's redis-server.

Every node runs in cluster mode on free ports (client and bus port both
chosen, so nothing depends on ``port + 10000`` being free), in a temporary
folder, with no persistence and a short ``cluster-node-timeout`` so that a
killed master's replica takes over within a few seconds. ``stop()`` kills
every process it started and removes the folder.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.crc import key_slot

NODE_TIMEOUT_MS = 1000
CREATE_OPTIONS = ("--cluster-replicas", "1", "--cluster-yes")


def _free_ports(count: int) -> list[int]:
    """Ports free now, all held at once so that none is handed out twice."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


@dataclass
class ClusterNode:
    port: int
    bus_port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class LocalCluster:
    """Three shards, each a master and one replica, on 127.0.0.1."""

    def __init__(self, masters: int = 3, node_timeout_ms: int = NODE_TIMEOUT_MS) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="hub-cluster-"))
        self.node_timeout_ms = node_timeout_ms
        ports = _free_ports(masters * 4)
        self.nodes = [
            ClusterNode(port, bus) for port, bus in zip(ports[0::2], ports[1::2], strict=True)
        ]
        self.masters = masters

    @property
    def url(self) -> str:
        """Names one node; a cluster client finds the rest."""
        return f"redis://127.0.0.1:{self.nodes[0].port}/0"

    def start(self, timeout: float = 30) -> LocalCluster:
        try:
            for node in self.nodes:
                self._spawn(node)
            for node in self.nodes:
                _wait_listening(node.port, timeout)
            addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
            subprocess.run(
                [_binary("redis-cli"), "--cluster", "create", *addresses, *CREATE_OPTIONS],
                check=True,
                capture_output=True,
                timeout=timeout,
            )
            self.wait_ok(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, node: ClusterNode) -> None:
        log = self.dir / f"{node.port}.log"
        node.process = subprocess.Popen(
            [
                _binary("redis-server"),
                "--port",
                str(node.port),
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-port",
                str(node.bus_port),
                "--cluster-config-file",
                str(self.dir / f"nodes-{node.port}.conf"),
                "--cluster-node-timeout",
                str(self.node_timeout_ms),
                # Replicas sync at once (not after the default 5 s), and
                # always may take over, however old their data.
                "--repl-diskless-sync-delay",
                "0",
                "--cluster-replica-validity-factor",
                "0",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
                "--logfile",
                str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        """Kill every node we started and remove the folder; leaves no process behind."""
        for node in self.nodes:
            if node.alive:
                assert node.process is not None
                node.process.send_signal(signal.SIGKILL)
        for node in self.nodes:
            if node.process is not None:
                node.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)

    # Topology, read from the live nodes.

    def live_ports(self) -> list[int]:
        return [node.port for node in self.nodes if node.alive]

    def _client(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, socket_timeout=2, socket_connect_timeout=2)

    def _slot_owners(self, port: int) -> dict[int, int]:
        """slot → master port, as the node at ``port`` sees it."""
        with self._client(port) as client:
            ranges = client.execute_command("CLUSTER SLOTS")
        owners: dict[int, int] = {}
        # Each range: [start, end, [master host, master port, id], [replica …], …].
        for start, end, master, *_ in ranges:
            for slot in range(int(start), int(end) + 1):
                owners[slot] = int(master[1])
        return owners

    def _state_ok(self, port: int) -> bool:
        """The node sees a healthy cluster, and if it is a replica, its master link is up."""
        with self._client(port) as client:
            cluster = client.execute_command("CLUSTER INFO")  # parsed into a dict
            replication = client.info("replication")
        healthy = cluster.get("cluster_state") == "ok"
        linked = (
            replication.get("role") == "master" or replication.get("master_link_status") == "up"
        )
        return bool(healthy and linked)

    def master_of(self, channel: str) -> int:
        """The port of the master owning ``channel``'s slot, as every live node agrees."""
        slot = key_slot(channel.encode())
        views = {self._slot_owners(port).get(slot) for port in self.live_ports()}
        if len(views) != 1 or None in views:
            raise RuntimeError(f"nodes disagree on the owner of slot {slot}: {views}")
        (owner,) = views
        assert owner is not None
        return owner

    def master_ports(self) -> set[int]:
        return set(self._slot_owners(self.live_ports()[0]).values())

    def wait_ok(self, timeout: float = 30) -> None:
        """Until every live node is healthy and they agree on a full slot map."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                ports = self.live_ports()
                maps = [self._slot_owners(port) for port in ports]
                if (
                    all(self._state_ok(port) for port in ports)
                    and all(m == maps[0] for m in maps)
                    and len(maps[0]) == 16384
                    and all(owner in ports for owner in maps[0].values())
                ):
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster not ok after {timeout} s; logs in {self.dir}")
            time.sleep(0.1)

    def kill_master_of(self, channel: str) -> int:
        """SIGKILL the master owning ``channel``; returns its port. Its replica takes over."""
        port = self.master_of(channel)
        node = next(n for n in self.nodes if n.port == port)
        assert node.process is not None
        node.process.send_signal(signal.SIGKILL)
        node.process.wait(10)
        return port

    def replica_of(self, master_port: int) -> int:
        with self._client(master_port) as client:
            myid = client.execute_command("CLUSTER MYID")
            replicas = client.execute_command("CLUSTER REPLICAS", myid)  # {"host:port": {...}}
        return int(next(iter(replicas)).rsplit(":", 1)[1])

    def promote_replica_of(self, channel: str) -> tuple[int, int]:
        """A manual failover: the master of ``channel`` stays up, demoted to a replica.

        Returns (old master port, new master port) once every node agrees.
        """
        old = self.master_of(channel)
        new = self.replica_of(old)
        with self._client(new) as client:
            client.execute_command("CLUSTER FAILOVER")
        self.wait_failover(channel, old)
        return old, new

    def move_slot_of(self, channel: str) -> tuple[int, int]:
        """Reshard: hand ``channel``'s (keyless) slot to another master.

        Returns (old master port, new master port) once every node agrees.
        """
        slot = key_slot(channel.encode())
        old = self.master_of(channel)
        new = min(self.master_ports() - {old})
        with self._client(old) as source, self._client(new) as target:
            source_id = source.execute_command("CLUSTER MYID")
            target_id = target.execute_command("CLUSTER MYID")
            target.execute_command("CLUSTER SETSLOT", slot, "IMPORTING", source_id)
            source.execute_command("CLUSTER SETSLOT", slot, "MIGRATING", target_id)
            target.execute_command("CLUSTER SETSLOT", slot, "NODE", target_id)
            source.execute_command("CLUSTER SETSLOT", slot, "NODE", target_id)
        self.wait_failover(channel, old)
        return old, new

    def shard_channels(self, port: int, pattern: str) -> set[str]:
        """The shard channels matching ``pattern`` that have a subscriber on the node."""
        with self._client(port) as client:
            names = client.execute_command("PUBSUB SHARDCHANNELS", pattern)
        return {name.decode() for name in names}

    def wait_failover(self, channel: str, old_port: int, timeout: float = 20) -> int:
        """Until another master owns ``channel``'s slot in place of ``old_port``; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(redis.RedisError, RuntimeError):
                self.wait_ok(timeout=0)
                owner = self.master_of(channel)
                if owner != old_port:
                    return owner
            if time.monotonic() > deadline:
                raise RuntimeError(f"no failover after {timeout} s; logs in {self.dir}")
            time.sleep(0.1)


def _binary(name: str) -> str:
    found = shutil.which(name) or f"/usr/bin/{name}"
    if not Path(found).exists():
        raise RuntimeError(f"{name} is not installed on this machine")
    return found


def _wait_listening(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"redis-server on port {port} did not start")


@contextlib.contextmanager
def local_cluster() -> Iterator[LocalCluster]:
    cluster = LocalCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()
