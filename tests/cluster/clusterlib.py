"""Helpers of the cluster tests: a standalone Spark cluster, an in-process YARN,
spark-submit, and the checks shared by the tests.

Everything runs on 127.0.0.1 with free ports picked at start, and every process
started here is stopped by its pid (daemons through their pid files, then whatever
still runs with its working directory under the test's temporary directory).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SMOKE_CLASS = "dev.paws.spark.examples.ClusterSmokeJob"
SMOKE_PLUGIN = "dev.paws.spark.examples.ClusterSmokePlugin"

# What Spark's launcher adds for Java 17 (JavaModuleOptions). A driver started by a
# standalone worker (cluster deploy mode) does not get it, so it goes in
# spark.driver.extraJavaOptions; the YARN launcher JVM needs it too.
JAVA17_OPTIONS = " ".join(
    ["-XX:+IgnoreUnrecognizedVMOptions"]
    + [
        f"--add-opens=java.base/{p}=ALL-UNNAMED"
        for p in (
            "java.lang",
            "java.lang.invoke",
            "java.lang.reflect",
            "java.io",
            "java.net",
            "java.nio",
            "java.util",
            "java.util.concurrent",
            "java.util.concurrent.atomic",
            "jdk.internal.ref",
            "sun.nio.ch",
            "sun.nio.cs",
            "sun.security.action",
            "sun.util.calendar",
        )
    ]
    + ["-Djdk.reflect.useDirectMethodHandle=false", "-Dio.netty.tryReflectionSetAccessible=true"]
)

LOG4J2 = """\
# Cluster tests: warnings, plus what the tests read (paws, driver/app states).
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss.SSS} %p %c{1}: %m%n%ex
logger.paws.name = dev.paws
logger.paws.level = info
logger.client.name = org.apache.spark.deploy.ClientEndpoint
logger.client.level = info
logger.yarn.name = org.apache.spark.deploy.yarn.Client
logger.yarn.level = info
logger.master.name = org.apache.spark.deploy.master
logger.master.level = info
logger.worker.name = org.apache.spark.deploy.worker
logger.worker.level = info
logger.sched.name = org.apache.spark.scheduler.TaskSetManager
logger.sched.level = warn
"""

NATIVE_TASK_LINE = "paws-smoke: native gradient task ran in executor"


def log(msg: str) -> None:
    print(f"[cluster-test {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int = 60) -> str:
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError as e:
        return f"(cannot read {path}: {e})"
    return "\n".join(text[-lines:])


def wait_for(what: str, predicate, timeout: float, interval: float = 0.25, alive=None):
    """Polls until predicate() is truthy and returns it; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if alive is not None and not alive():
            raise AssertionError(f"gave up waiting for {what}: the process ended")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def pids_under(root: Path) -> list[int]:
    """Processes whose working directory is under root (executors, drivers, containers)."""
    root = str(Path(root).resolve())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd == root or cwd.startswith(root + "/"):
            found.append(int(entry.name))
    return found


def kill_pids(pids, why: str) -> None:
    for pid in pids:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:160]
            os.kill(pid, signal.SIGKILL)
            log(f"killed leftover pid {pid} ({why}): {cmd.decode(errors='replace')}")
        except (OSError, ProcessLookupError):
            pass


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def write_spark_conf_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "log4j2.properties").write_text(LOG4J2)
    return path


def base_env(spark_home: Path, conf_dir: Path) -> dict:
    env = dict(os.environ)
    for k in ("HADOOP_CONF_DIR", "YARN_CONF_DIR", "SPARK_MASTER_HOST", "MASTER", "PYSPARK_SUBMIT_ARGS"):
        env.pop(k, None)
    env.update(
        SPARK_HOME=str(spark_home),
        SPARK_CONF_DIR=str(conf_dir),
        SPARK_LOCAL_IP="127.0.0.1",
        SPARK_LOCAL_HOSTNAME="127.0.0.1",
    )
    return env


@dataclass
class Submitted:
    returncode: int
    log: Path
    output: str
    seconds: float

    def explain(self) -> str:
        return f"spark-submit exited {self.returncode} after {self.seconds:.1f} s; its log {self.log}:\n{tail(self.log, 80)}"


def spark_submit(
    spark_home: Path, env: dict, args: list[str], log_path: Path, timeout: float = 420
) -> Submitted:
    cmd = [str(spark_home / "bin" / "spark-submit"), *args]
    log(f"spark-submit {' '.join(args)}")
    t0 = time.monotonic()
    with open(log_path, "w") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        try:
            rc = subprocess.run(
                cmd,
                check=False,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
            ).returncode
        except subprocess.TimeoutExpired:
            raise AssertionError(f"spark-submit ran over {timeout} s; log {log_path}:\n{tail(log_path, 80)}")
    s = Submitted(rc, log_path, log_path.read_text(errors="replace"), time.monotonic() - t0)
    log(f"spark-submit exited {rc} in {s.seconds:.1f} s (log {log_path})")
    return s


# 30 iterations (MLlib's default is 100) keep each run short; the executor-loss test
# pauses at iteration 20.
ITERATIONS = 30


def smoke_args(out: Path, *extra: str) -> list[str]:
    return ["--out", f"file:{out}", "--iterations", str(ITERATIONS), *extra]


def common_conf(*, cores_max: int | None = 2) -> list[str]:
    conf = {
        "spark.executor.memory": "512m",
        "spark.executor.cores": "1",
        "spark.driver.memory": "512m",
        "spark.ui.enabled": "false",
        "spark.plugins": SMOKE_PLUGIN,
        # Wait for both executors before the first job, so the cached partitions (and the
        # native work) are spread over both.
        "spark.scheduler.minRegisteredResourcesRatio": "1.0",
        "spark.scheduler.maxRegisteredResourcesWaitingTime": "120s",
    }
    if cores_max is not None:
        conf["spark.cores.max"] = str(cores_max)
    args = []
    for k, v in conf.items():
        args += ["--conf", f"{k}={v}"]
    return args


# --- checks shared by the tests ---------------------------------------------------------------------


def load_outputs(out: Path) -> tuple[dict, dict]:
    weights = json.loads((out / "weights.json").read_text())
    proof = json.loads((out / "proof.json").read_text())
    return weights, proof


def check_weights(weights: dict) -> None:
    nat = weights["native"]
    assert len(nat["weights"]) == weights["features"]
    assert any(w != 0.0 for w in nat["weights"]), "native training left the weights at zero"
    assert nat["passes"] >= 20, f"training stopped after {nat['passes']} passes"
    if weights.get("mllib") is not None:
        assert weights["max_rel_diff"] <= 1e-6, (
            f"native vs MLlib: max relative difference {weights['max_rel_diff']}"
        )
        log(
            f"native vs MLlib SVMWithSGD: max relative difference {weights['max_rel_diff']}, "
            f"bit-identical: {weights['bit_identical']}, {nat['passes']} passes"
        )


def check_native_ran_in_executors(
    proof: dict, *, min_executors: int, cwd_root: Path | None = None
) -> set[str]:
    """The cached partitions live in executor JVMs (not the driver) that loaded libpaws_jni."""
    seen = proof["partitions_seen"]
    assert len(seen) == proof["partitions"], seen
    assert proof["driver_executor_id"] == "driver"
    driver_pid = proof["driver_jvm"].split("@")[0]
    executors = {r["executor_id"] for r in seen}
    assert "driver" not in executors, f"partitions computed in the driver: {seen}"
    assert len(executors) >= min_executors, f"expected >= {min_executors} executors, saw {executors}"
    for r in seen:
        assert r["jvm"].split("@")[0] != driver_pid, f"partition {r['partition']} in the driver's JVM"
        assert r["native_lib"] and r["native_lib"].endswith(".so"), (
            f"executor {r['executor_id']} ({r['jvm']}) did not load the native library during training: {r}"
        )
        if cwd_root is not None:
            assert r["cwd"].startswith(str(cwd_root)), f"executor {r['executor_id']} runs in {r['cwd']}"
    jvms = {r["executor_id"]: r["jvm"] for r in seen}
    log(f"native library loaded in executor JVMs {jvms} (driver {proof['driver_jvm']})")
    return executors


def parquet_rows(folder: Path) -> list[tuple]:
    """(image, label, features) of a Parquet folder, by image, read with pyarrow-free PySpark."""
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
    try:
        rows = spark.read.parquet(str(folder)).orderBy("image").collect()
        return [(r["image"], r["label"], tuple(r["features"])) for r in rows]
    finally:
        spark.stop()


def grep_files(files, needle: str) -> list[Path]:
    hits = []
    for f in files:
        try:
            if needle in f.read_text(errors="replace"):
                hits.append(f)
        except OSError:
            pass
    return hits


# --- standalone ---------------------------------------------------------------------------------------


class Standalone:
    """A master and two workers (2 cores, 2 GiB each) started with sbin/spark-daemon.sh."""

    MASTER = "org.apache.spark.deploy.master.Master"
    WORKER = "org.apache.spark.deploy.worker.Worker"

    def __init__(self, spark_home: Path, root: Path, workers: int = 2):
        self.spark_home = spark_home
        self.root = root.resolve()
        self.n_workers = workers
        self.conf_dir = write_spark_conf_dir(self.root / "conf")
        self.port = free_port()
        self.ui_port = free_port()
        self.url = f"spark://127.0.0.1:{self.port}"
        self.json_url = f"http://127.0.0.1:{self.ui_port}/json/"
        self.worker_dirs = [self.root / f"worker{i}" for i in range(1, workers + 1)]
        self.env = base_env(spark_home, self.conf_dir)
        self.env.update(
            SPARK_PID_DIR=str(self.root / "pid"),
            SPARK_LOG_DIR=str(self.root / "log"),
            SPARK_IDENT_STRING="paws-cluster-test",
            SPARK_DAEMON_MEMORY="512m",
        )
        self.started = []

    def _daemon(self, action: str, cls: str, instance: int, *args: str) -> None:
        cmd = [str(self.spark_home / "sbin" / "spark-daemon.sh"), action, cls, str(instance), *args]
        r = subprocess.run(cmd, check=False, env=self.env, capture_output=True, text=True, timeout=120)
        if r.returncode != 0 and action == "start":
            raise AssertionError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")

    def master_state(self) -> dict | None:
        try:
            with urllib.request.urlopen(self.json_url, timeout=5) as r:
                return json.load(r)
        except (OSError, ValueError):
            return None

    def start(self) -> None:
        t0 = time.monotonic()
        for d in self.worker_dirs:
            d.mkdir(parents=True, exist_ok=True)
        self.started.append((self.MASTER, 1))
        self._daemon(
            "start",
            self.MASTER,
            1,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--webui-port",
            str(self.ui_port),
        )
        wait_for("the master", lambda: (self.master_state() or {}).get("status") == "ALIVE", 90)
        for i, d in enumerate(self.worker_dirs, start=1):
            self.started.append((self.WORKER, i))
            self._daemon(
                "start",
                self.WORKER,
                i,
                "--host",
                "127.0.0.1",
                "--webui-port",
                str(free_port()),
                "--cores",
                "2",
                "--memory",
                "2g",
                "--work-dir",
                str(d),
                self.url,
            )

        def alive_workers():
            s = self.master_state() or {}
            return len([w for w in s.get("workers", []) if w.get("state") == "ALIVE"]) == self.n_workers

        wait_for(f"{self.n_workers} workers", alive_workers, 90)
        log(
            f"standalone cluster {self.url} with {self.n_workers} workers up in {time.monotonic() - t0:.1f} s "
            f"(web UI {self.json_url})"
        )

    def stop(self) -> None:
        for cls, instance in reversed(self.started):
            try:
                self._daemon("stop", cls, instance)
            except subprocess.TimeoutExpired:
                pass
        # Daemons that outlived stop, then executors and drivers the workers left behind.
        for pidfile in (self.root / "pid").glob("*.pid"):
            try:
                pid = int(pidfile.read_text().strip())
            except (OSError, ValueError):
                continue
            if str(self.root) in cmdline(pid) or self.url in cmdline(pid):
                kill_pids([pid], "daemon still running after stop")
        kill_pids(pids_under(self.root), "left under the cluster's directory")
        log("standalone cluster stopped")

    def daemon_logs(self) -> str:
        return "\n".join(f"--- {p}\n{tail(p, 40)}" for p in sorted((self.root / "log").glob("*.out")))

    def submit(self, args: list[str], log_name: str, timeout: float = 420) -> Submitted:
        return spark_submit(
            self.spark_home, self.env, ["--master", self.url, *args], self.root / log_name, timeout
        )

    def driver(self, driver_id: str) -> dict | None:
        s = self.master_state() or {}
        for d in s.get("completeddrivers", []) + s.get("activedrivers", []):
            if d.get("id") == driver_id:
                return d
        return None

    def wait_driver_final(self, driver_id: str, timeout: float = 300) -> dict:
        def ended():
            d = self.driver(driver_id)
            return d if d and d.get("state") in ("FINISHED", "FAILED", "ERROR", "KILLED") else None

        return wait_for(f"driver {driver_id} to end", ended, timeout, interval=0.5)

    def app(self, app_id: str) -> dict | None:
        s = self.master_state() or {}
        for a in s.get("completedapps", []) + s.get("activeapps", []):
            if a.get("id") == app_id:
                return a
        return None

    def executor_stderr(self, app_id: str) -> list[Path]:
        return sorted(p for d in self.worker_dirs for p in (d / app_id).glob("*/stderr"))

    def driver_stderr(self, driver_id: str) -> Path | None:
        for d in self.worker_dirs:
            p = d / driver_id / "stderr"
            if p.exists():
                return p
        return None


def submission_id(output: str) -> str:
    m = re.search(r"Driver successfully submitted as (driver-\d+-\d+)", output)
    assert m, "spark-submit did not print a driver id:\n" + output[-4000:]
    return m.group(1)


# --- YARN --------------------------------------------------------------------------------------------


class MiniYarn:
    """Hadoop's MiniYARNCluster in a JVM of its own (tests/cluster/yarn-launcher)."""

    def __init__(self, spark_home: Path, root: Path, launcher_dir: Path):
        self.spark_home = spark_home
        self.root = root.resolve()
        self.launcher_dir = launcher_dir
        self.conf_dir = self.root / "conf"
        self.spark_conf_dir = write_spark_conf_dir(self.root / "spark-conf")
        self.proc = None
        self.log_path = self.root / "launcher.log"

    def build(self) -> None:
        t0 = time.monotonic()
        mvn_args = os.environ.get("MVN_ARGS", "").split()
        cmd = [
            "mvn",
            "-B",
            "-q",
            "-Dstyle.color=never",
            *mvn_args,
            "-f",
            str(self.launcher_dir / "pom.xml"),
            "package",
        ]
        r = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, (
            f"building the YARN launcher failed:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
        )
        log(f"YARN launcher built in {time.monotonic() - t0:.1f} s")

    def start(self) -> None:
        target = self.launcher_dir / "target"
        cp = f"{target / 'classes'}:{(target / 'classpath.txt').read_text().strip()}"
        java = shutil.which(
            "java", path=os.path.join(os.environ.get("JAVA_HOME", "/nonexistent"), "bin")
        ) or shutil.which("java")
        env = dict(os.environ)
        if "JAVA_HOME" not in env:
            env["JAVA_HOME"] = str(Path(os.path.realpath(java)).parents[1])
        env["SPARK_LOCAL_IP"] = "127.0.0.1"
        for k in ("HADOOP_CONF_DIR", "YARN_CONF_DIR"):
            env.pop(k, None)
        self.root.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        with open(self.log_path, "w") as launcher_log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [
                    java,
                    *JAVA17_OPTIONS.split(),
                    "-Xmx1g",
                    "-cp",
                    cp,
                    "dev.paws.cluster.MiniYarnLauncher",
                    str(self.root),
                ],
                cwd=self.root,
                env=env,
                stdin=subprocess.PIPE,
                stdout=launcher_log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for(
                "the MiniYARNCluster",
                lambda: (self.root / "READY").exists(),
                240,
                alive=lambda: self.proc.poll() is None,
            )
        except AssertionError as e:
            raise AssertionError(f"{e}\n{tail(self.log_path, 80)}")
        log(
            f"MiniYARNCluster up in {time.monotonic() - t0:.1f} s, ResourceManager at "
            f"{(self.root / 'READY').read_text().strip()}"
        )

    def stop(self) -> None:
        if self.proc is not None:
            try:
                self.proc.stdin.close()  # the launcher stops on EOF
                self.proc.wait(timeout=60)
            except (subprocess.TimeoutExpired, OSError):
                kill_pids([self.proc.pid], "YARN launcher did not stop in 60 s")
                self.proc.wait(timeout=30)
        kill_pids(pids_under(self.root), "left under the YARN directory")
        log("MiniYARNCluster stopped")

    def env(self) -> dict:
        env = base_env(self.spark_home, self.spark_conf_dir)
        env["HADOOP_CONF_DIR"] = str(self.conf_dir)
        return env

    def apps(self) -> dict[str, dict]:
        apps = {}
        try:
            text = (self.root / "apps.tsv").read_text()
        except OSError:
            return apps
        for line in text.splitlines():
            f = line.split("\t")
            if len(f) >= 5:
                apps[f[0]] = {"state": f[1], "final_status": f[2], "name": f[3], "diagnostics": f[4]}
        return apps

    def container_stderr(self, app_id: str) -> list[Path]:
        return sorted(self.root.glob(f"target/**/{app_id}/container_*/stderr"))

    def submit(self, args: list[str], log_name: str, timeout: float = 420) -> Submitted:
        conf = {
            "spark.yarn.jars": f"local:{self.spark_home / 'jars'}/*",
            "spark.yarn.stagingDir": f"file:{self.root / 'staging'}",
            "spark.yarn.maxAppAttempts": "1",
            "spark.yarn.submit.waitAppCompletion": "true",
            "spark.yarn.report.interval": "500ms",
            "spark.executor.instances": "2",
            "spark.yarn.appMasterEnv.SPARK_LOCAL_IP": "127.0.0.1",
            "spark.executorEnv.SPARK_LOCAL_IP": "127.0.0.1",
        }
        extra = []
        for k, v in conf.items():
            extra += ["--conf", f"{k}={v}"]
        return spark_submit(
            self.spark_home, self.env(), ["--master", "yarn", *extra, *args], self.root / log_name, timeout
        )
