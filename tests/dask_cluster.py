"""Real Dask clusters on loopback for the distributed tests: a `dask scheduler` and
single-threaded `dask worker` processes on 127.0.0.1, on free ports, always torn down."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

MEMSIM = [sys.executable, "-m", "memsim.cli"]
START_TIMEOUT = 60  # s, for a scheduler or worker process to come up on a loaded machine


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env():
    e = dict(os.environ)
    e.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".numba_cache"))
    e["MPLBACKEND"] = "Agg"
    return e


class Cluster:
    """A scheduler and ``n`` single-threaded workers (each with its nanny), in their own
    process groups so a worker can be killed outright."""

    def __init__(self, logs: Path, n: int = 2):
        self.address = f"tcp://127.0.0.1:{free_port()}"
        self.logs = logs
        self.procs: list[subprocess.Popen] = []
        self.scheduler = self._start("scheduler", "distributed.cli.dask_scheduler", "--host",
                                     "127.0.0.1", "--port", self.address.rsplit(":", 1)[1],
                                     "--no-dashboard")
        self.workers = [self._start(f"worker{i}", "distributed.cli.dask_worker", self.address,
                                    "--nthreads", "1", "--nworkers", "1", "--name", f"w{i}",
                                    "--host", "127.0.0.1", "--no-dashboard",
                                    "--memory-limit", "0")
                        for i in range(n)]
        self.wait_for_workers(n)

    def _start(self, name, module, *args):
        log = open(self.logs / f"{name}.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", module, *args], stdout=log,
                                stderr=subprocess.STDOUT, env=env(), start_new_session=True)
        self.procs.append(proc)
        return proc

    def wait_for_workers(self, n):
        from distributed import Client

        with Client(self.address, timeout=START_TIMEOUT, set_as_default=False) as c:
            c.wait_for_workers(n, timeout=START_TIMEOUT)

    def n_workers(self):
        from distributed import Client

        with Client(self.address, timeout=START_TIMEOUT, set_as_default=False) as c:
            return len(c.scheduler_info()["workers"])

    def client(self):
        from distributed import Client

        return Client(self.address, timeout=START_TIMEOUT, set_as_default=False)

    @staticmethod
    def address_of(client, name):
        (addr,) = [a for a, w in client.scheduler_info()["workers"].items()
                   if w["name"] == name]
        return addr

    def kill(self, proc):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def close(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=10)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
