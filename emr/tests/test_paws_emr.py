"""End-to-end tests of emr/paws-emr against moto's local AWS server.

paws-emr runs as a subprocess, as a user runs it, with the real aws CLI (from PATH)
pointed at moto through AWS_ENDPOINT_URL; the tests check what it did with boto3.

Needs env PAWS_MOTO_SERVER (path of moto_server); without it the tests are skipped,
or fail when PAWS_REQUIRE_MOTO=1 (CI).

What moto 5.2.5 does with EMR (moto/emr/models.py):
  - steps never move on their own: the first step of a cluster is RUNNING, the later ones
    PENDING, forever; there is no state manager transition for EMR and no way to make
    a step FAILED;
  - `--auto-termination-policy` is accepted and dropped (RunJobFlow ignores
    AutoTerminationPolicy; GetAutoTerminationPolicy answers 500);
  - terminate-clusters sets the cluster TERMINATED at once.
So `wait`'s success and failure paths use a shim: an `aws` executable first on PATH that
runs the real aws CLI against moto for every command and, for `emr describe-step` only,
rewrites the step's state to $PAWS_FAKE_STEP_STATE (adding FailureDetails for FAILED).
Every call still reaches moto (the step must exist there); only the state is made up.
"""

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

HERE = Path(__file__).resolve().parent
PAWS_EMR = HERE.parent / "paws-emr"
SPARK_CONF = HERE.parent.parent / "spark-conf"


# --- moto server ------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint():
    server = os.environ.get("PAWS_MOTO_SERVER")
    if not server:
        reason = "PAWS_MOTO_SERVER is not set (path of moto_server): EMR kit tests skipped"
        if os.environ.get("PAWS_REQUIRE_MOTO") == "1":
            pytest.fail(reason + ", but PAWS_REQUIRE_MOTO=1")
        pytest.skip(reason)
    port = free_port()
    proc = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = "http://127.0.0.1:%d" % port
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("moto server %s did not start on port %d" % (server, port))
                time.sleep(0.1)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def aws_env(moto_endpoint):
    env = dict(os.environ)
    env.update({
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    })
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        env.pop(key, None)
    return env


@pytest.fixture(scope="session")
def s3(aws_env):
    return boto3.client("s3", endpoint_url=aws_env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="session")
def emr(aws_env):
    return boto3.client("emr", endpoint_url=aws_env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def bucket(s3, request):
    """A fresh bucket per test (moto's state lives as long as the session)."""
    name = "paws-" + request.node.name.lower().replace("_", "-")[:40] + "-%d" % time.time_ns()
    name = name[:63]
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def artifacts(tmp_path):
    jar = tmp_path / "paws-spark-0.1.0.jar"
    jar.write_bytes(b"PK\x03\x04 dummy jar " + bytes(range(256)))
    model = tmp_path / "efficientnet-lite0.onnx"
    model.write_bytes(b"\x08\x07 dummy onnx " + bytes(range(255, -1, -1)))
    return jar, model


# --- running paws-emr -------------------------------------------------------------------


def paws_emr(env, *args, timeout=60):
    return subprocess.run([sys.executable, str(PAWS_EMR)] + [str(a) for a in args],
                          env=env, capture_output=True, text=True, timeout=timeout)


def ok(proc):
    assert proc.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (
        proc.returncode, proc.stdout, proc.stderr)
    return proc


SHIM = r'''#!{python}
# A test double for `aws`: runs the real aws CLI; rewrites `emr describe-step`'s state.
import json, os, subprocess, sys
proc = subprocess.run([{real_aws!r}] + sys.argv[1:], capture_output=True, text=True)
state = os.environ.get("PAWS_FAKE_STEP_STATE")
if proc.returncode == 0 and state and "describe-step" in sys.argv:
    out = json.loads(proc.stdout)
    out["Step"]["Status"]["State"] = state
    if state == "FAILED":
        out["Step"]["Status"]["FailureDetails"] = {{
            "Reason": "Unknown Error.",
            "Message": "Exception in thread main: java.io.FileNotFoundException: s3://x/photos",
            "LogFile": "s3://fake/logs/steps/stderr.gz",
        }}
    proc.stdout = json.dumps(out)
sys.stdout.write(proc.stdout)
sys.stderr.write(proc.stderr)
sys.exit(proc.returncode)
'''


def write_exe(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def shim_env(aws_env, tmp_path):
    """aws_env with the describe-step shim first on PATH; set PAWS_FAKE_STEP_STATE."""
    real_aws = shutil.which("aws", path=aws_env.get("PATH"))
    assert real_aws, "the aws CLI is not on PATH"
    bindir = tmp_path / "shim-bin"
    bindir.mkdir()
    write_exe(bindir / "aws", SHIM.format(python=sys.executable, real_aws=real_aws))
    env = dict(aws_env)
    env["PATH"] = str(bindir) + os.pathsep + env["PATH"]
    return env


@pytest.fixture
def no_aws_env(aws_env, tmp_path):
    """aws_env with an `aws` first on PATH that records that it was called and fails."""
    bindir = tmp_path / "tripwire-bin"
    bindir.mkdir()
    marker = tmp_path / "aws-was-called"
    write_exe(bindir / "aws", "#!/bin/sh\necho \"$@\" >> %s\nexit 99\n" % marker)
    env = dict(aws_env)
    env["PATH"] = str(bindir) + os.pathsep + env["PATH"]
    return env, marker


# --- expectations -----------------------------------------------------------------------


def expected_spark_defaults():
    """Parsed independently of paws-emr: `key value` lines that are not comments."""
    props = {}
    for line in (SPARK_CONF / "spark-defaults.conf").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, value = line.split(None, 1)
            props[key] = value.strip()
    return props


def expected_steps(bucket, photos, features, out, which):
    jar = "s3://%s/paws/jars/paws-spark-0.1.0.jar" % bucket
    model = "s3://%s/paws/models/efficientnet-lite0.onnx" % bucket
    return [
        ["spark-submit", "--deploy-mode", "cluster", "--class", "dev.paws.spark.ExtractFeatures",
         jar, photos, "-o", features, "--model", model],
        ["spark-submit", "--deploy-mode", "cluster", "--conf", "spark.dynamicAllocation.enabled=false",
         "--class", "dev.paws.spark.PetBreedExperiment", jar, "--features", features] + which + ["-o", out],
    ]


def steps_in_order(emr, cluster_id):
    """list_steps answers newest first (as EMR does): oldest first here."""
    return list(reversed(emr.list_steps(ClusterId=cluster_id)["Steps"]))


def new_cluster(env, bucket):
    return ok(paws_emr(env, "create-cluster", "--bucket", bucket)).stdout.strip()


@pytest.fixture(scope="module")
def cluster_with_steps(aws_env, s3):
    """One cluster with the two steps of a --class Bengal --vs all run, made by paws-emr
    create-cluster and add-steps; shared by the add-steps and wait tests (each aws CLI
    call takes about a second). Moto keeps step 1 RUNNING and step 2 PENDING."""
    bucket = "paws-shared-%d" % time.time_ns()
    s3.create_bucket(Bucket=bucket)
    cluster_id = new_cluster(aws_env, bucket)
    proc = ok(paws_emr(aws_env, "add-steps", "--bucket", bucket, "--cluster-id", cluster_id,
                       "--photos", "s3://%s/pets/photos/" % bucket,
                       "--features", "s3://%s/pets/features/" % bucket,
                       "--out", "s3://%s/pets/runs/bengal/" % bucket,
                       "--class", "Bengal", "--vs", "all"))
    return bucket, cluster_id, proc.stdout.split()


# --- tests ------------------------------------------------------------------------------


def test_upload_puts_jar_and_model(aws_env, s3, bucket, artifacts):
    jar, model = artifacts
    ok(paws_emr(aws_env, "upload", "--bucket", bucket, "--jar", jar, "--model", model))
    got_jar = s3.get_object(Bucket=bucket, Key="paws/jars/paws-spark-0.1.0.jar")["Body"].read()
    got_model = s3.get_object(Bucket=bucket, Key="paws/models/efficientnet-lite0.onnx")["Body"].read()
    assert got_jar == jar.read_bytes()
    assert got_model == model.read_bytes()


def test_create_cluster(aws_env, emr, bucket):
    proc = ok(paws_emr(aws_env, "create-cluster", "--bucket", bucket, "--prefix", "team/paws",
                       "--core-count", "3", "--idle-timeout", "1800"))
    cluster_id = proc.stdout.strip()
    assert cluster_id.startswith("j-")
    cluster = emr.describe_cluster(ClusterId=cluster_id)["Cluster"]
    assert cluster["Name"] == "paws"
    assert cluster["ReleaseLabel"] == "emr-7.5.0"
    assert [a["Name"] for a in cluster["Applications"]] == ["Spark"]
    assert cluster["LogUri"] == "s3://%s/team/paws/logs/" % bucket
    assert cluster["ServiceRole"] == "EMR_DefaultRole"
    assert cluster["Ec2InstanceAttributes"]["IamInstanceProfile"] == "EMR_EC2_DefaultRole"
    groups = {g["InstanceGroupType"]: (g["InstanceType"], g["RequestedInstanceCount"])
              for g in emr.list_instance_groups(ClusterId=cluster_id)["InstanceGroups"]}
    assert groups == {"MASTER": ("m5.xlarge", 1), "CORE": ("m5.2xlarge", 3)}
    # moto drops AutoTerminationPolicy (GetAutoTerminationPolicy is a 500 there), so the
    # idle timeout is checked on the command paws-emr sends: see test_dry_run_run.

    confs = {c["Classification"]: c["Properties"] for c in cluster["Configurations"]}
    assert set(confs) == {"spark-defaults", "spark-log4j2"}
    defaults = confs["spark-defaults"]
    assert defaults == expected_spark_defaults()
    assert defaults["spark.executor.memoryOverhead"] == "1g"
    assert defaults["spark.executorEnv.MALLOC_ARENA_MAX"] == "4"
    for commented in ("spark.jars", "#spark.jars", "spark.paws.native.lib",
                      "spark.paws.blocks.partitions"):
        assert commented not in defaults
    assert not any(k.startswith("#") for k in defaults)
    log4j2 = confs["spark-log4j2"]
    assert log4j2["logger.paws.name"] == "dev.paws.spark"
    assert log4j2["logger.paws.level"] == "info"
    assert log4j2["rootLogger.level"] == "warn"
    assert log4j2["appender.console.layout.pattern"] == "%d{yy/MM/dd HH:mm:ss.SSS} %p %c{1}: %m%n%ex"
    assert not any(k.startswith("#") for k in log4j2)


def test_configurations_subcommand_prints_the_same(aws_env):
    confs = json.loads(ok(paws_emr(aws_env, "configurations")).stdout)
    assert confs[0] == {"Classification": "spark-defaults", "Properties": expected_spark_defaults()}
    assert confs[1]["Classification"] == "spark-log4j2"


def test_add_steps(emr, cluster_with_steps):
    bucket, cluster_id, step_ids = cluster_with_steps
    assert len(step_ids) == 2
    steps = steps_in_order(emr, cluster_id)
    assert [s["Id"] for s in steps] == step_ids
    assert [s["Config"]["Jar"] for s in steps] == ["command-runner.jar"] * 2
    assert [s["ActionOnFailure"] for s in steps] == ["CANCEL_AND_WAIT"] * 2
    assert [s["Config"]["Args"] for s in steps] == expected_steps(
        bucket, "s3://%s/pets/photos/" % bucket, "s3://%s/pets/features/" % bucket,
        "s3://%s/pets/runs/bengal/" % bucket, ["--class", "Bengal", "--vs", "all"])


def test_add_steps_with_the_breed_predictor(aws_env, emr, s3):
    bucket = "paws-breeds-%d" % time.time_ns()
    s3.create_bucket(Bucket=bucket)
    cluster_id = new_cluster(aws_env, bucket)
    features = "s3://%s/pets/features/" % bucket
    model = "s3://%s/pets/models/breeds-37.json" % bucket
    step_ids = ok(paws_emr(aws_env, "add-steps", "--bucket", bucket, "--cluster-id", cluster_id,
                           "--photos", "s3://%s/pets/photos/" % bucket, "--features", features,
                           "--out", "s3://%s/pets/runs/r/" % bucket, "--all-pairs",
                           "--breed-model", model)).stdout.split()
    assert len(step_ids) == 3
    steps = steps_in_order(emr, cluster_id)
    assert [s["Name"] for s in steps] == ["paws: extract features", "paws: experiment",
                                          "paws: breed predictor"]
    assert steps[2]["ActionOnFailure"] == "CANCEL_AND_WAIT"
    jar = "s3://%s/paws/jars/paws-spark-0.1.0.jar" % bucket
    assert steps[2]["Config"]["Args"] == [
        "spark-submit", "--deploy-mode", "cluster", "--class", "dev.paws.spark.TrainBreeds", jar,
        "--features", features, "-o", model]
    bad = paws_emr(aws_env, "add-steps", "--bucket", bucket, "--cluster-id", cluster_id,
                   "--photos", "s3://a/p/", "--features", "s3://a/f/", "--out", "s3://a/o/",
                   "--all-pairs", "--breed-model", "models/breeds.json")
    assert bad.returncode == 1 and "--breed-model must be an s3://" in bad.stderr


def test_add_steps_needs_class_and_vs_or_all_pairs(aws_env, bucket):
    proc = paws_emr(aws_env, "add-steps", "--bucket", bucket, "--cluster-id", "j-NOPE",
                    "--photos", "s3://a/p/", "--features", "s3://a/f/", "--out", "s3://a/o/",
                    "--class", "Bengal")
    assert proc.returncode == 1
    assert "--all-pairs" in proc.stderr and "Traceback" not in proc.stderr


def test_wait_times_out_on_moto_running_step(aws_env, cluster_with_steps):
    # Real moto state: the first step stays RUNNING.
    _, cluster_id, step_ids = cluster_with_steps
    proc = paws_emr(aws_env, "wait", "--cluster-id", cluster_id, "--step-id", step_ids[0],
                    "--timeout", "0.5", "--poll-seconds", "0.2")
    assert proc.returncode == 1
    assert "timed out" in proc.stderr and step_ids[0] in proc.stderr
    assert "RUNNING" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_wait_completed(shim_env, cluster_with_steps):
    _, cluster_id, step_ids = cluster_with_steps
    env = dict(shim_env, PAWS_FAKE_STEP_STATE="COMPLETED")
    ok(paws_emr(env, "wait", "--cluster-id", cluster_id, "--step-id", *step_ids,
                "--poll-seconds", "0.1"))


def test_wait_failed_prints_details_and_logs(shim_env, cluster_with_steps):
    # moto cannot fail a step: the shim reports FAILED for the step moto has.
    bucket, cluster_id, step_ids = cluster_with_steps
    env = dict(shim_env, PAWS_FAKE_STEP_STATE="FAILED")
    proc = paws_emr(env, "wait", "--cluster-id", cluster_id, "--step-id", *step_ids,
                    "--poll-seconds", "0.1")
    assert proc.returncode == 1
    err = proc.stderr
    assert "FAILED" in err
    assert "java.io.FileNotFoundException" in err  # FailureDetails.Message
    assert "Unknown Error." in err  # Reason
    assert "s3://fake/logs/steps/stderr.gz" in err  # LogFile
    steps_dir = "s3://%s/paws/logs/%s/steps/%s/" % (bucket, cluster_id, step_ids[0])
    assert steps_dir + "stderr.gz" in err and steps_dir + "stdout.gz" in err
    assert "s3://%s/paws/logs/%s/containers/" % (bucket, cluster_id) in err
    assert step_ids[1] not in err  # stops at the first failed step
    assert "Traceback" not in err


def test_fetch_refuses_without_success(aws_env, s3, bucket, tmp_path):
    s3.put_object(Bucket=bucket, Key="runs/a/results.csv", Body=b"partial\n")
    proc = paws_emr(aws_env, "fetch", "--results", "s3://%s/runs/a/" % bucket,
                    "--to", tmp_path / "dl")
    assert proc.returncode == 1
    assert "the run did not finish" in proc.stderr and "_SUCCESS" in proc.stderr
    assert not (tmp_path / "dl").exists()


def test_fetch_downloads_finished_run(aws_env, s3, bucket, tmp_path):
    csv = b"class,vs,accuracy\nBengal,all,0.91\n"
    s3.put_object(Bucket=bucket, Key="runs/b/results.csv", Body=csv)
    s3.put_object(Bucket=bucket, Key="runs/b/paws.log", Body=b"log\n")
    s3.put_object(Bucket=bucket, Key="runs/b/_SUCCESS", Body=b"")
    proc = ok(paws_emr(aws_env, "fetch", "--results", "s3://%s/runs/b" % bucket,
                       "--to", tmp_path / "dl"))
    assert (tmp_path / "dl" / "results.csv").read_bytes() == csv
    assert (tmp_path / "dl" / "paws.log").is_file()
    assert (tmp_path / "dl" / "_SUCCESS").is_file()
    assert "Bengal,all,0.91" in proc.stdout


def test_terminate(aws_env, emr, bucket):
    cluster_id = new_cluster(aws_env, bucket)
    ok(paws_emr(aws_env, "terminate", "--cluster-id", cluster_id))
    state = emr.describe_cluster(ClusterId=cluster_id)["Cluster"]["Status"]["State"]
    assert state in ("TERMINATING", "TERMINATED")


def test_failing_aws_command_is_reported(aws_env, artifacts):
    # A bucket that does not exist: S3 answers 404 NoSuchBucket (no retries, unlike
    # moto's 500 for an unknown cluster id).
    jar, model = artifacts
    proc = paws_emr(aws_env, "upload", "--bucket", "paws-no-such-bucket", "--jar", jar,
                    "--model", model)
    assert proc.returncode == 1
    assert "aws command failed" in proc.stderr
    assert "aws --output json s3 cp --only-show-errors %s s3://paws-no-such-bucket/paws/jars/" \
        "paws-spark-0.1.0.jar" % jar in proc.stderr  # the command, as run
    assert "NoSuchBucket" in proc.stderr  # the aws CLI's stderr
    assert "Traceback" not in proc.stderr


def run_args(bucket, jar, model, to, *extra):
    return ["run", "--bucket", bucket, "--jar", jar, "--model", model,
            "--photos", "s3://%s/pets/photos/" % bucket,
            "--features", "s3://%s/pets/features/" % bucket,
            "--out", "s3://%s/pets/runs/all-pairs/" % bucket, "--all-pairs",
            "--to", to, "--poll-seconds", "0.1"] + list(extra)


def clusters_named(emr, name):
    return [c for c in emr.list_clusters()["Clusters"] if c["Name"] == name]


def test_run_end_to_end(shim_env, s3, emr, bucket, artifacts, tmp_path):
    # The steps do not run on moto: seed what the experiment would write.
    csv = b"class,vs,accuracy\nAbyssinian,Bengal,0.97\n"
    s3.put_object(Bucket=bucket, Key="pets/runs/all-pairs/results.csv", Body=csv)
    s3.put_object(Bucket=bucket, Key="pets/runs/all-pairs/_SUCCESS", Body=b"")
    jar, model = artifacts
    env = dict(shim_env, PAWS_FAKE_STEP_STATE="COMPLETED")
    ok(paws_emr(env, *run_args(bucket, jar, model, tmp_path / "results", "--name", bucket)))

    assert s3.get_object(Bucket=bucket, Key="paws/jars/paws-spark-0.1.0.jar")["Body"].read() \
        == jar.read_bytes()
    assert s3.head_object(Bucket=bucket, Key="paws/models/efficientnet-lite0.onnx")
    [cluster] = clusters_named(emr, bucket)
    assert cluster["Status"]["State"] in ("TERMINATING", "TERMINATED")
    steps = steps_in_order(emr, cluster["Id"])
    assert [s["Config"]["Args"] for s in steps] == expected_steps(
        bucket, "s3://%s/pets/photos/" % bucket, "s3://%s/pets/features/" % bucket,
        "s3://%s/pets/runs/all-pairs/" % bucket, ["--all-pairs"])
    assert (tmp_path / "results" / "results.csv").read_bytes() == csv


def test_run_fetches_the_breed_predictor(shim_env, s3, emr, bucket, artifacts, tmp_path):
    # Seed what the experiment and TrainBreeds would write.
    s3.put_object(Bucket=bucket, Key="pets/runs/all-pairs/results.csv", Body=b"class\n")
    s3.put_object(Bucket=bucket, Key="pets/runs/all-pairs/_SUCCESS", Body=b"")
    files = {"breeds-37.json": b'{"format": "paws-breed-model/1"}',
             "breeds-37.confusion.csv": b"breed\n", "breeds-37.confusion.png": b"\x89PNG"}
    for name, body in files.items():
        s3.put_object(Bucket=bucket, Key="pets/models/" + name, Body=body)
    jar, model = artifacts
    env = dict(shim_env, PAWS_FAKE_STEP_STATE="COMPLETED")
    proc = ok(paws_emr(env, *run_args(bucket, jar, model, tmp_path / "results", "--name", bucket,
                                      "--breed-model", "s3://%s/pets/models/breeds-37.json" % bucket)))
    for name, body in files.items():
        assert (tmp_path / "results" / name).read_bytes() == body, name
    assert "fetched the breed predictor" in proc.stderr
    [cluster] = clusters_named(emr, bucket)
    assert len(steps_in_order(emr, cluster["Id"])) == 3


def test_run_failed_step_still_terminates(shim_env, emr, bucket, artifacts, tmp_path):
    jar, model = artifacts
    env = dict(shim_env, PAWS_FAKE_STEP_STATE="FAILED")
    proc = paws_emr(env, *run_args(bucket, jar, model, tmp_path / "results", "--name", bucket))
    assert proc.returncode == 1
    assert "FAILED" in proc.stderr and "/steps/" in proc.stderr
    [cluster] = clusters_named(emr, bucket)
    assert cluster["Status"]["State"] in ("TERMINATING", "TERMINATED")
    assert not (tmp_path / "results").exists()  # nothing fetched


def test_dry_run_run(no_aws_env, s3, emr, bucket, artifacts, tmp_path):
    env, marker = no_aws_env
    jar, model = artifacts
    proc = ok(paws_emr(env, "--dry-run", "--region", "eu-west-1",
                       *run_args(bucket, jar, model, tmp_path / "results", "--name", bucket)))
    assert not marker.exists(), "the dry run called aws: " + marker.read_text()
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    assert clusters_named(emr, bucket) == []

    lines = proc.stdout.splitlines()
    assert all(line.startswith("aws --output json --region eu-west-1 ") for line in lines), lines
    ops = [" ".join(line.split()[5:7]) for line in lines]
    assert ops == ["s3 cp", "s3 cp", "emr create-cluster", "emr add-steps",
                   "emr describe-step", "emr describe-step", "s3api head-object", "s3 cp",
                   "emr terminate-clusters"]
    create = lines[2]
    assert "--auto-termination-policy IdleTimeout=3600" in create
    assert "--log-uri s3://%s/paws/logs/" % bucket in create
    assert "--use-default-roles" in create
    assert "--release-label emr-7.5.0" in create
    assert "'<cluster-id>'" in lines[3] and "'<step-id-1>'" in lines[4]
    # The file:// arguments exist, so the commands can be pasted as printed.
    steps_file = lines[3].split("file://")[1].split()[0]
    steps = json.loads(Path(steps_file).read_text())
    assert [s["Type"] for s in steps] == ["Spark", "Spark"]


def test_missing_jar_is_named_before_any_aws_call(no_aws_env, artifacts, tmp_path):
    env, marker = no_aws_env
    _, model = artifacts
    missing = tmp_path / "nowhere" / "paws-spark-0.1.0.jar"
    proc = paws_emr(env, *run_args("some-bucket", missing, model, tmp_path / "results"))
    assert proc.returncode == 1
    assert str(missing) in proc.stderr and "jar" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not marker.exists()


def test_run_with_onnxruntime_ships_the_library_to_the_extract_step(shim_env, s3, emr, bucket, artifacts,
                                                                      tmp_path):
    """--onnxruntime-lib: the library goes to S3 beside the jar, and the extract step ships
    it with --files and names it (the YARN side of this is tests/cluster/test_yarn.py)."""
    s3.put_object(Bucket=bucket, Key="pets/runs/all-pairs/results.csv", Body=b"class\n")
    s3.put_object(Bucket=bucket, Key="pets/runs/all-pairs/_SUCCESS", Body=b"")
    jar, model = artifacts
    lib = tmp_path / "libonnxruntime.so.1.32.0"
    lib.write_bytes(b"\x7fELF dummy library")
    env = dict(shim_env, PAWS_FAKE_STEP_STATE="COMPLETED")
    ok(paws_emr(env, *run_args(bucket, jar, model, tmp_path / "results", "--name", bucket,
                               "--onnxruntime-lib", lib)))
    lib_uri = "s3://%s/paws/lib/libonnxruntime.so.1.32.0" % bucket
    assert s3.get_object(Bucket=bucket, Key="paws/lib/libonnxruntime.so.1.32.0")["Body"].read() == lib.read_bytes()
    [cluster] = clusters_named(emr, bucket)
    extract = steps_in_order(emr, cluster["Id"])[0]["Config"]["Args"]
    plain = expected_steps(bucket, "s3://%s/pets/photos/" % bucket, "s3://%s/pets/features/" % bucket,
                           "s3://%s/pets/runs/all-pairs/" % bucket, ["--all-pairs"])[0]
    assert extract == (plain[:3] + ["--files", lib_uri] + plain[3:]
                       + ["--backend", "onnxruntime", "--onnxruntime-lib", "libonnxruntime.so.1.32.0"])


def test_onnxruntime_on_emr_6_is_refused_before_any_aws_call(no_aws_env, artifacts, tmp_path):
    env, marker = no_aws_env
    jar, model = artifacts
    lib = tmp_path / "libonnxruntime.so.1.32.0"
    lib.write_bytes(b"\x7fELF")
    proc = paws_emr(env, *run_args("some-bucket", jar, model, tmp_path / "results",
                                   "--release-label", "emr-6.15.0", "--onnxruntime-lib", lib))
    assert proc.returncode == 1 and "glibc 2.28" in proc.stderr and "emr-6.15.0" in proc.stderr, proc.stderr
    missing = paws_emr(env, *run_args("some-bucket", jar, model, tmp_path / "results",
                                      "--onnxruntime-lib", tmp_path / "nope.so"))
    assert missing.returncode == 1 and "nope.so" in missing.stderr and "pip install onnxruntime" in missing.stderr
    assert not marker.exists()
