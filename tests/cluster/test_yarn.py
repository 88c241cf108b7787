"""`spark-submit --master yarn --deploy-mode cluster`, the way EMR runs it, against a
real YARN: Hadoop's MiniYARNCluster (ResourceManager + NodeManager) started by the
`yarn` fixture. The driver runs in the application master's container, the executors
in containers of their own.
"""

from __future__ import annotations

import re

from clusterlib import (
    NATIVE_TASK_LINE,
    SMOKE_CLASS,
    check_native_ran_in_executors,
    check_weights,
    common_conf,
    grep_files,
    load_outputs,
    log,
    smoke_args,
    wait_for,
)


def app_id_of(output: str) -> str:
    m = re.search(r"Submitting application (application_\d+_\d+) to ResourceManager", output)
    assert m, "spark-submit did not print an application id:\n" + output[-4000:]
    return m.group(1)


def final_report(yarn, app_id: str) -> dict:
    """The ResourceManager's own view of the application, once it has ended."""

    def ended():
        app = yarn.apps().get(app_id)
        return app if app and app["state"] in ("FINISHED", "FAILED", "KILLED") else None

    return wait_for(f"YARN to finish {app_id}", ended, 60)


def test_yarn_cluster_mode(yarn, jar, test_jar, tmp_path):
    out = tmp_path / "out"
    r = yarn.submit(
        [
            "--deploy-mode",
            "cluster",
            *common_conf(cores_max=None),
            "--jars",
            str(jar),
            "--class",
            SMOKE_CLASS,
            str(test_jar),
            *smoke_args(out),
        ],
        "yarn-cluster.log",
    )
    app_id = app_id_of(r.output)
    app = final_report(yarn, app_id)
    log(f"YARN: spark-submit exited {r.returncode}; {app_id} {app['state']} / {app['final_status']}")
    # In YARN cluster mode spark-submit's exit code follows the application's final status.
    assert r.returncode == 0, r.explain()
    assert "final status: SUCCEEDED" in r.output, r.explain()
    assert (app["state"], app["final_status"]) == ("FINISHED", "SUCCEEDED"), app

    weights, proof = load_outputs(out)
    assert proof["deploy_mode"] == "cluster" and proof["master"] == "yarn" and proof["app_id"] == app_id
    check_weights(weights)
    check_native_ran_in_executors(proof, min_executors=2, cwd_root=yarn.root)
    # The driver is in the application master's container, not in spark-submit's JVM.
    logs = yarn.container_stderr(app_id)
    assert logs, f"no container logs for {app_id} under {yarn.root}"
    driver_logs = grep_files(logs, "paws-smoke: wrote")
    assert len(driver_logs) == 1, driver_logs
    executor_logs = grep_files(logs, NATIVE_TASK_LINE)
    assert len(executor_logs) >= 2 and driver_logs[0] not in executor_logs, (logs, executor_logs)
    log(
        f"YARN containers: driver {driver_logs[0].parent.name}, executors with native gradient tasks "
        f"{[p.parent.name for p in executor_logs]}"
    )


def test_yarn_cluster_mode_failure_is_reported(yarn, jar, test_jar, tmp_path):
    """Unlike standalone, a failed YARN application makes spark-submit exit non-zero."""
    out = tmp_path / "out"
    r = yarn.submit(
        [
            "--deploy-mode",
            "cluster",
            *common_conf(cores_max=None),
            "--jars",
            str(jar),
            "--class",
            SMOKE_CLASS,
            str(test_jar),
            *smoke_args(out, "--fail", "bad-label", "--mllib", "false"),
        ],
        "yarn-cluster-fail.log",
    )
    app_id = app_id_of(r.output)
    app = final_report(yarn, app_id)
    log(
        f"YARN failing job: spark-submit exited {r.returncode}; {app_id} {app['state']} / {app['final_status']}"
    )
    assert r.returncode != 0, r.explain()
    assert app["final_status"] == "FAILED", app
    assert "Input validation failed" in app["diagnostics"] or any(
        "Input validation failed" in p.read_text(errors="replace") for p in yarn.container_stderr(app_id)
    ), app
    assert not (out / "weights.json").exists()
