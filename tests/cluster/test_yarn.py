"""`spark-submit --master yarn --deploy-mode cluster`, the way EMR runs it, against a
real YARN: Hadoop's MiniYARNCluster (ResourceManager + NodeManager) started by the
`yarn` fixture. The driver runs in the application master's container, the executors
in containers of their own.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from clusterlib import (
    NATIVE_TASK_LINE,
    REPO,
    SMOKE_CLASS,
    check_native_ran_in_executors,
    check_weights,
    common_conf,
    grep_files,
    load_outputs,
    log,
    parquet_rows,
    smoke_args,
    wait_for,
)


TINY_MODEL = REPO / "rust" / "paws-vision" / "tests" / "fixtures" / "tiny.onnx"


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


def _png(path, rgb: tuple[int, int, int], size: int = 40) -> None:
    """A uniform-colour RGB PNG, written with zlib alone (the test venv has no imaging library)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_yarn_extract_features_on_onnxruntime_shipped_with_files(yarn, jar, test_jar, tmp_path):
    """ExtractFeatures --backend onnxruntime in YARN cluster mode, the library shipped with
    `--files` and named by its file name: every container (driver and executors) opens the
    copy YARN linked into its working directory, and the features are the tiny model's
    known values (channel means after (x/255 - 0.5)/0.5)."""
    library = os.environ.get("ORT_DYLIB_PATH", "")
    if not Path(library).is_file():
        message = f"ORT_DYLIB_PATH={library!r} is not a file (the onnxruntime wheel's libonnxruntime.so.1.*)"
        if os.environ.get("PAWS_REQUIRE_ONNXRUNTIME") == "1":
            pytest.fail(message + "; PAWS_REQUIRE_ONNXRUNTIME=1 requires it")
        pytest.skip("SKIPPED: " + message)
    colours = {"Bengal_1.png": (255, 0, 255), "pug_1.png": (0, 128, 255), "pug_2.png": (10, 200, 30)}
    photos = tmp_path / "photos"
    photos.mkdir()
    for name, rgb in colours.items():
        _png(photos / name, rgb)
    out = tmp_path / "features.parquet"
    r = yarn.submit(
        [
            "--deploy-mode",
            "cluster",
            *common_conf(cores_max=None),
            "--files",
            library,
            "--jars",
            str(test_jar),
            "--class",
            "dev.paws.spark.ExtractFeatures",
            str(jar),
            f"file:{photos}",
            "-o",
            f"file:{out}",
            "--model",
            f"file:{TINY_MODEL}",
            "--input-size",
            "32",
            "--backend",
            "onnxruntime",
            "--onnxruntime-lib",
            Path(library).name,
        ],
        "yarn-extract-onnxruntime.log",
    )
    app_id = app_id_of(r.output)
    app = final_report(yarn, app_id)
    assert r.returncode == 0 and app["final_status"] == "SUCCEEDED", r.explain()

    rows = parquet_rows(out)
    assert [row[0] for row in rows] == sorted(colours)
    for image, label, features in rows:
        expected = [(c / 255 - 0.5) / 0.5 for c in colours[image]]
        assert label == image.split("_")[0]
        assert all(abs(f - e) < 1e-5 for f, e in zip(features, expected)), (image, features, expected)
    # Each container opened its own link to the shipped file, not the original.
    opened = [
        line
        for p in yarn.container_stderr(app_id)
        for line in p.read_text(errors="replace").splitlines()
        if "on onnxruntime, library" in line
    ]
    assert opened, f"no container logged its onnxruntime library under {yarn.root}"
    for line in opened:
        assert f"/{app_id}/container_" in line and line.endswith("/" + Path(library).name), line
    log(f"YARN ExtractFeatures on onnxruntime via --files: {len(rows)} rows; {len(opened)} JVMs opened the shipped library")
