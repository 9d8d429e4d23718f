"""A throw-away one-node SLURM cluster on loopback, with accounting and one stand-in GPU.

munged, mariadbd, slurmdbd, slurmctld and slurmd (Debian 12's packages, Slurm 22.05) run in the foreground as
children of this process, with their keys, sockets, databases, spool and logs in a private directory and free
loopback ports. Only the configuration lives outside it, in /etc/slurm: SLURM's job steps drop SLURM_CONF, so
that is the one place they read it from. Files already there are set aside and put back at teardown.
Teardown stops exactly the processes started here, by PID, and never touches daemons it did not start.

By hand (as root):  .venv/bin/python tests/workflow/slurm/cluster.py   brings it up, waits for Enter, tears it down.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

PACKAGES = ("munge", "slurmctld", "slurmd", "slurm-client", "slurmdbd", "mariadb-server")
SLURM_ETC = Path("/etc/slurm")
MARKER = "# Written by deeplin's tests/workflow/slurm/cluster.py for a throw-away test cluster; removed at teardown."
BACKUP_SUFFIX = ".deeplin-test-backup"
# Daemons that read /etc/slurm: one already running belongs to someone else, so we refuse to start.
FOREIGN_DAEMONS = ("slurmctld", "slurmd", "slurmdbd")
# Every program the cluster runs, job steps included: none of them may outlive teardown.
CLUSTER_PROGRAMS = ("munged", "mariadbd", *FOREIGN_DAEMONS, "slurmstepd")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LOCK_FILE = Path(tempfile.gettempdir()) / "deeplin-slurm-test.lock"
CLUSTER = "deeplin"
ACCOUNT = "deeplin-ci"
GPU_TYPE = "fake"
# Declared (not probed: SlurmdParameters=config_overrides) so the rules' mem_mb requests schedule on a small
# CI box; nothing enforces memory here (task/none), the tiny study's jobs use a few hundred MB.
NODE_MEMORY_MB = 8000
START_TIMEOUT_S = 60.0


class Unavailable(Exception):
    """This machine cannot host the test cluster; the message says why (tests skip on it)."""


def system_env() -> dict[str, str]:
    """Our environment minus inherited SLURM_* settings, with the sbin directories on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SBATCH_", "SRUN_"))}
    env["PATH"] = f"{env.get('PATH', '')}:{SYSTEM_PATH}".lstrip(":")
    return env


def run(*argv: str, timeout: float = 30, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a SLURM/MariaDB/munge client quietly; raise with its output if it fails and check is set."""
    result = subprocess.run(
        argv, check=False, capture_output=True, text=True, env=system_env(), timeout=timeout
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


def succeeds(*argv: str) -> bool:
    """Whether a command exits 0 (a readiness probe: a hang or a missing program counts as not ready)."""
    try:
        return run(*argv, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# ---------------------------------------------------------------------------------------------- installation
def check_platform() -> None:
    """Refuse (Unavailable) anything but root on Debian: the cluster needs apt packages and /etc/slurm."""
    if not Path("/etc/debian_version").exists() or not shutil.which("dpkg-query", path=system_env()["PATH"]):
        raise Unavailable("not a Debian system: the SLURM test cluster is built from Debian's packages")
    if os.geteuid() != 0:
        raise Unavailable(
            "not root: the SLURM test cluster writes /etc/slurm and runs slurmd as SlurmUser=root "
            f"(run as root on Debian, where missing packages are installed: {' '.join(PACKAGES)})"
        )


def missing_packages() -> list[str]:
    """The Debian packages of PACKAGES that are not installed."""
    result = run("dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *PACKAGES, check=False)
    installed = {line.split()[0] for line in result.stdout.splitlines() if line.endswith(" installed")}
    return [name for name in PACKAGES if name not in installed]


@contextlib.contextmanager
def services_kept_down() -> Iterator[None]:
    """Stop package scripts from starting munge/MariaDB/SLURM services while installing (a policy-rc.d)."""
    policy = Path("/usr/sbin/policy-rc.d")
    if policy.exists():  # the administrator's choice (Docker images ship one that says no)
        yield
        return
    policy.write_text(
        "#!/bin/sh\n# deeplin tests/workflow/slurm: no service starts during this install\nexit 101\n"
    )
    policy.chmod(0o755)
    try:
        yield
    finally:
        policy.unlink(missing_ok=True)


def apt_get(*args: str) -> subprocess.CompletedProcess[str]:
    """apt-get, quiet and non-interactive, keeping existing configuration files."""
    env = dict(system_env(), DEBIAN_FRONTEND="noninteractive")
    options = ["-q", "-y", "-o", "Dpkg::Use-Pty=0", "-o", "Dpkg::Options::=--force-confold"]
    command = ["apt-get", *options, *args]
    return subprocess.run(command, check=False, capture_output=True, text=True, env=env, timeout=900)


def install_packages(packages: list[str]) -> None:
    """apt-get install the packages (retrying after apt-get update); Unavailable when that fails."""
    with services_kept_down():
        result = apt_get("install", "--no-install-recommends", *packages)
        if result.returncode != 0:
            apt_get("update")
            result = apt_get("install", "--no-install-recommends", *packages)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
        raise Unavailable(f"apt-get install {' '.join(packages)} failed:\n{tail}")


def ensure_packages() -> float:
    """Check the platform and install missing packages; return the seconds spent installing (0 if none)."""
    check_platform()
    missing = missing_packages()
    if not missing:
        return 0.0
    start = time.perf_counter()
    install_packages(missing)
    if still := missing_packages():
        raise Unavailable(f"apt-get ran but these packages are still missing: {' '.join(still)}")
    return time.perf_counter() - start


# -------------------------------------------------------------------------------------------------- daemons
@dataclass
class Daemon:
    """One daemon this module started (in the foreground, in its own session), with its output file."""

    name: str
    process: subprocess.Popen[bytes]
    output: Path

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.poll() is None

    def tail(self, lines: int = 30) -> str:
        """The end of its output, for error messages."""
        text = self.output.read_text(errors="replace") if self.output.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM, then SIGKILL after timeout seconds: only this PID, which we started."""
        if not self.alive():
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)


def start_daemon(name: str, argv: list[str], output: Path) -> Daemon:
    """Start argv in its own session (a Ctrl-C in the terminal reaches teardown, not the daemons)."""
    with output.open("wb") as sink:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=system_env(),
            start_new_session=True,
        )
    return Daemon(name, process, output)


def wait_until(what: str, ready: Callable[[], bool], daemon: Daemon, timeout: float | None = None) -> None:
    """Poll ready() until it holds; fail with the daemon's output if it exits or the timeout passes."""
    timeout = START_TIMEOUT_S if timeout is None else timeout
    deadline = time.monotonic() + timeout
    while not ready():
        if not daemon.alive():
            raise RuntimeError(
                f"{daemon.name} exited ({daemon.process.returncode}) before {what}:\n{daemon.tail()}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"timed out after {timeout:.0f} s waiting for {what}; {daemon.name}:\n{daemon.tail()}"
            )
        time.sleep(0.2)


def running_programs() -> dict[int, str]:
    """PID -> program name (/proc/PID/comm) of every process on the machine."""
    programs = {}
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit():
                programs[int(entry.name)] = (entry / "comm").read_text().strip()
    return programs


def is_ours(path: Path) -> bool:
    """Whether a configuration file was written by this module (it starts with MARKER)."""
    return path.exists() and path.read_text(errors="replace").startswith(MARKER)


def write_file(path: Path, text: str, mode: int) -> None:
    """Create path with the given permissions from the start (some of these files hold a password)."""
    path.unlink(missing_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "w") as file:
        file.write(text)


def free_ports(count: int) -> list[int]:
    """count distinct TCP ports that are free on 127.0.0.1 right now."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


# -------------------------------------------------------------------------------------------------- cluster
@dataclass
class LoopbackCluster:
    """The cluster: start() brings it up and waits until it runs jobs; stop() undoes all that start() did."""

    partition: str = "normal"
    account: str = ACCOUNT
    keep_state: bool = False
    root: Path = field(init=False)
    daemons: list[Daemon] = field(default_factory=list, init=False)
    timings: dict[str, float] = field(default_factory=dict, init=False)
    host: str = field(init=False)
    db_password: str = field(init=False)
    mysql_port: int = field(init=False)
    dbd_port: int = field(init=False)
    ctld_port: int = field(init=False)
    slurmd_port: int = field(init=False)
    _lock: IO[str] | None = field(default=None, init=False)
    _pids_before: set[int] = field(default_factory=set, init=False)
    _written: list[Path] = field(default_factory=list, init=False)

    # ---- public
    def start(self) -> None:
        """Bring up munge, MariaDB, slurmdbd, slurmctld and slurmd; return once the node is idle."""
        begin = time.perf_counter()
        self._take_lock()
        self._refuse_foreign_daemons()
        self._pids_before = set(running_programs())
        # 0755: munged wants its socket's directory searchable by all; nothing secret is readable by others
        self.root = Path(tempfile.mkdtemp(prefix="deeplin-slurm-"))
        self.root.chmod(0o755)
        self.host = socket.gethostname().split(".")[0]
        self.mysql_port, self.dbd_port, self.ctld_port, self.slurmd_port = free_ports(4)
        self.db_password = secrets.token_hex(12)
        self._write_configs()
        for stage in (
            self._start_munge,
            self._start_mariadb,
            self._start_slurmdbd,
            self._register_cluster,
            self._start_slurmctld,
            self._start_slurmd,
        ):
            stage_begin = time.perf_counter()
            stage()
            self.timings[stage.__name__.lstrip("_")] = time.perf_counter() - stage_begin
        self.timings["bring-up"] = time.perf_counter() - begin

    def stop(self) -> None:
        """Cancel leftover jobs, stop our daemons (newest first), restore /etc/slurm, delete the state."""
        begin = time.perf_counter()
        try:
            if any(d.name == "slurmctld" and d.alive() for d in self.daemons):
                self._cancel_jobs()
            for daemon in reversed(self.daemons):
                daemon.stop()
        finally:
            self._restore_configs()
            if not self.keep_state and getattr(self, "root", None):
                shutil.rmtree(self.root, ignore_errors=True)
            self._release_lock()
        self.timings["teardown"] = time.perf_counter() - begin

    def pids(self) -> list[int]:
        """PIDs of the daemons started here."""
        return [d.process.pid for d in self.daemons]

    def leftovers(self) -> list[str]:
        """Cluster programs (daemons, job steps) started since start() that are still running."""
        now = running_programs()
        return [
            f"{name} (pid {pid})"
            for pid, name in now.items()
            if name in CLUSTER_PROGRAMS and pid not in self._pids_before
        ]

    def sacct(self, *fields: str, since: str = "now-1days") -> list[dict[str, str]]:
        """Accounting records of every job allocation (-X) since the given time, one dict per job."""
        result = run("sacct", "-a", "-X", "-n", "-P", "-S", since, "-o", ",".join(fields))
        return [
            dict(zip(fields, line.split("|"), strict=True)) for line in result.stdout.splitlines() if line
        ]

    # ---- locking and foreign daemons
    def _take_lock(self) -> None:
        """Hold a machine-wide lock: one test cluster at a time (they share /etc/slurm)."""
        self._lock = LOCK_FILE.open("a")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._release_lock()
            raise Unavailable(
                f"another SLURM test cluster is running on this machine (holds {LOCK_FILE})"
            ) from None

    def _release_lock(self) -> None:
        """Let go of the machine-wide lock."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _refuse_foreign_daemons(self) -> None:
        """Unavailable when SLURM daemons we did not start are running (they would share /etc/slurm)."""
        foreign = sorted(
            f"{name} (pid {pid})" for pid, name in running_programs().items() if name in FOREIGN_DAEMONS
        )
        if not foreign:
            return
        self._release_lock()
        hint = (
            "; /etc/slurm/slurm.conf is one this test wrote, so they are probably left over from an "
            "interrupted run: stop those PIDs by hand and rerun"
            if is_ours(SLURM_ETC / "slurm.conf")
            else ""
        )
        raise Unavailable(
            f"SLURM daemons not started by this test are running: {', '.join(foreign)}; the test cluster "
            f"would replace their /etc/slurm configuration, so it does not start{hint}"
        )

    # ---- configuration files
    def _write_configs(self) -> None:
        """Write slurm.conf, slurmdbd.conf and gres.conf to /etc/slurm, setting aside files found there."""
        SLURM_ETC.mkdir(parents=True, exist_ok=True)
        texts = {
            "slurm.conf": self._slurm_conf(),
            "slurmdbd.conf": self._slurmdbd_conf(),
            "gres.conf": self._gres_conf(),
        }
        for name, text in texts.items():
            path = SLURM_ETC / name
            self._set_aside(path)
            # slurmdbd.conf holds the database password, and slurmdbd insists on 0600
            write_file(path, f"{MARKER}\n{text}", 0o600 if name == "slurmdbd.conf" else 0o644)
            self._written.append(path)

    @staticmethod
    def _set_aside(path: Path) -> None:
        """Rename a pre-existing file (not ours) to its backup name; ours, left by a crash, is replaced."""
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        if not path.exists() or is_ours(path):
            return
        if backup.exists():
            raise RuntimeError(f"both {path} and {backup} exist; restore one of them by hand")
        path.rename(backup)

    def _restore_configs(self) -> None:
        """Remove the files we wrote and put back the ones we set aside."""
        for path in self._written:
            if is_ours(path):
                path.unlink()
            backup = path.with_name(path.name + BACKUP_SUFFIX)
            if backup.exists():
                backup.rename(path)
        self._written.clear()

    def _slurm_conf(self) -> str:
        """slurm.conf: a minimal one-node setup plus accounting through slurmdbd and a fake GPU."""
        r = self.root
        return f"""\
ClusterName={CLUSTER}
SlurmctldHost={self.host}(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket={r}/munge.socket
CredType=cred/munge
SlurmctldPort={self.ctld_port}
SlurmdPort={self.slurmd_port}
StateSaveLocation={r}/slurmctld
SlurmdSpoolDir={r}/slurmd
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/slurmctld.log
SlurmdLogFile={r}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=300
# start batch jobs as soon as they are submitted (the default defers them up to 3 s)
SchedulerParameters=batch_sched_delay=0
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort={self.dbd_port}
# (with slurmdbd, "Pass" is the munge socket for talking to it: AuthInfo does not cover that connection)
AccountingStoragePass={r}/munge.socket
AccountingStorageEnforce=associations
# record GPUs in AllocTRES, and the executor's per-job comment (rule and wildcards) in the database
AccountingStorageTRES=gres/gpu,gres/gpu:{GPU_TYPE}
AccountingStoreFlags=job_comment
GresTypes=gpu
NodeName={self.host} NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 1} RealMemory={NODE_MEMORY_MB} \
Gres=gpu:{GPU_TYPE}:1 State=UNKNOWN
PartitionName={self.partition} Nodes={self.host} Default=YES MaxTime=INFINITE State=UP
"""

    def _slurmdbd_conf(self) -> str:
        """slurmdbd.conf: the accounting daemon on loopback, storing into our MariaDB."""
        r = self.root
        return f"""\
AuthType=auth/munge
AuthInfo=socket={r}/munge.socket
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort={self.dbd_port}
SlurmUser=root
PidFile={r}/slurmdbd.pid
LogFile={r}/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={self.mysql_port}
StorageUser=slurm
StoragePass={self.db_password}
StorageLoc=slurm_acct_db
"""

    def _gres_conf(self) -> str:
        """gres.conf: one GPU of type GPU_TYPE that is really /dev/null (scheduling and accounting only)."""
        return f"AutoDetect=off\nNodeName={self.host} Name=gpu Type={GPU_TYPE} File=/dev/null\n"

    # ---- daemons, in start order
    def _spawn(self, name: str, *argv: str) -> Daemon:
        """Start one daemon, remember it for teardown."""
        daemon = start_daemon(name, list(argv), self.root / f"{name}.out")
        self.daemons.append(daemon)
        return daemon

    def _start_munge(self) -> None:
        """munged with a fresh key and a private socket (slurm.conf's AuthInfo points there)."""
        r = self.root
        run("mungekey", "--create", f"--keyfile={r}/munge.key")
        daemon = self._spawn(
            "munged",
            "munged",
            "--foreground",
            f"--socket={r}/munge.socket",
            f"--key-file={r}/munge.key",
            f"--log-file={r}/munged.log",
            f"--pid-file={r}/munged.pid",
            f"--seed-file={r}/munged.seed",
        )
        wait_until(
            "munge to answer", lambda: succeeds("munge", "--no-input", f"--socket={r}/munge.socket"), daemon
        )

    def _start_mariadb(self) -> None:
        """A fresh MariaDB in our directory on a loopback port, with the slurm user slurmdbd logs in as."""
        r = self.root
        datadir = r / "mysql"
        run(
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={datadir}",
            "--user=root",
            "--skip-test-db",
            "--auth-root-authentication-method=socket",
            timeout=120,
        )
        init = r / "mysql-init.sql"
        sql = (
            f"CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '{self.db_password}';\n"
            "GRANT ALL PRIVILEGES ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';\n"
        )
        write_file(init, sql, 0o600)
        daemon = self._spawn(
            "mariadbd",
            "mariadbd",
            "--no-defaults",
            f"--datadir={datadir}",
            "--user=root",
            f"--socket={r}/mysqld.sock",
            f"--pid-file={r}/mysqld.pid",
            f"--port={self.mysql_port}",
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            f"--init-file={init}",
            "--innodb-lock-wait-timeout=900",  # slurmdbd's recommended value (it warns otherwise)
        )
        ping = ("mariadb-admin", "--no-defaults", f"--socket={r}/mysqld.sock", "--user=root", "ping")
        wait_until("MariaDB to accept connections", lambda: succeeds(*ping), daemon)

    def _start_slurmdbd(self) -> None:
        """slurmdbd in the foreground; ready once sacctmgr gets an answer from it."""
        daemon = self._spawn("slurmdbd", "slurmdbd", "-D")
        wait_until(
            "slurmdbd to answer sacctmgr", lambda: succeeds("sacctmgr", "-n", "-P", "list", "cluster"), daemon
        )

    def _register_cluster(self) -> None:
        """Add the cluster, an account for the test's jobs and root as its user to the accounting database."""
        run("sacctmgr", "-i", "add", "cluster", CLUSTER)
        run(
            "sacctmgr",
            "-i",
            "add",
            "account",
            self.account,
            f"cluster={CLUSTER}",
            "description=deeplin tests",
        )
        run("sacctmgr", "-i", "add", "user", "root", f"account={self.account}", f"cluster={CLUSTER}")

    def _start_slurmctld(self) -> None:
        """slurmctld in the foreground, ignoring any saved state; ready once it answers and registered."""
        (self.root / "slurmctld").mkdir()
        daemon = self._spawn("slurmctld", "slurmctld", "-D", "-i")
        wait_until("slurmctld to answer", lambda: "UP" in run("scontrol", "ping", check=False).stdout, daemon)
        wait_until("slurmctld to register in accounting", self._registered, daemon)

    def _registered(self) -> bool:
        """Whether slurmdbd knows where our slurmctld listens (it registered with the accounting database)."""
        result = run("sacctmgr", "-n", "-P", "list", "cluster", "format=Cluster,ControlHost", check=False)
        return f"{CLUSTER}|127.0.0.1" in result.stdout.splitlines()

    def _start_slurmd(self) -> None:
        """slurmd in the foreground; ready once sinfo shows our node idle."""
        (self.root / "slurmd").mkdir()
        daemon = self._spawn("slurmd", "slurmd", "-D")

        def idle() -> bool:
            return run("sinfo", "-h", "-N", "-o", "%t", check=False).stdout.split() == ["idle"]

        wait_until("the node to be idle", idle, daemon)

    def _cancel_jobs(self) -> None:
        """Cancel every job still queued or running on this (private) cluster and wait until they are gone."""
        run("scancel", "--quiet", "--user=root", check=False)
        deadline = time.monotonic() + 20
        while run("squeue", "-h", "-o", "%i", check=False).stdout.strip() and time.monotonic() < deadline:
            time.sleep(0.5)


def main() -> int:
    """Bring the cluster up for manual experiments, wait for Enter, tear it down."""
    try:
        print(f"packages installed in {ensure_packages():.1f} s")
    except Unavailable as reason:
        print(f"cannot start a test cluster here: {reason}", file=sys.stderr)
        return 1
    cluster = LoopbackCluster(keep_state="--keep" in sys.argv)
    try:
        cluster.start()
        print(f"up in {cluster.timings['bring-up']:.1f} s; state in {cluster.root}; daemons {cluster.pids()}")
        print(f"try: sbatch -A {cluster.account} --gpus=1 --wrap 'env | grep CUDA'; sinfo; sacct")
        input("press Enter to tear it down ")
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
