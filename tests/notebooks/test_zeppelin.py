"""The Zeppelin note emr/zeppelin/paws-pet-breeds.zpln, run as Zeppelin would run it:
its %spark paragraphs in order in one spark-shell (the paws jar on --jars), its
%pyspark paragraphs in order in one PySpark session, each with a stub `z` whose forms
point at the sample features and a temporary output folder. The tables they show must
be the output folders' results.csv, and both languages must get the same table."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from notelib import (
    PYTHON,
    REPO,
    SAMPLE,
    SCALA,
    SCALA_Z,
    SVM_LINE,
    PythonZ,
    assert_table_is_csv,
    html_images,
    join_leading_dots,
    paragraphs,
    results_csv,
    shown_tables,
    without_timing,
)

BEGIN = "PAWS-PARAGRAPH-BEGIN "
END = "PAWS-PARAGRAPH-END "
# What spark-shell prints for a paragraph that did not compile or threw.
SCALA_ERROR = re.compile(r"^(<console>:\d+: error:|error:|[\w.$]+(Exception|Error)(: |$))", re.M)


@pytest.fixture(scope="module")
def output(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("zeppelin-output")


def scala_script(output: Path) -> str:
    """The %spark paragraphs as one spark-shell script, each between markers."""
    parts = [SCALA_Z]
    for pid, interpreter, code in paragraphs():
        if interpreter in SCALA:
            parts += [f'println("{BEGIN}{pid}")', join_leading_dots(code), f'println("{END}{pid}")']
    parts.append("System.exit(0)")
    return "\n".join(parts) + "\n"


def by_paragraph(text: str) -> dict:
    """What each paragraph printed, by id."""
    out = {}
    for m in re.finditer(rf"^{BEGIN}(\S+)\n(.*?)^{END}\1$", text, re.M | re.S):
        out[m.group(1)] = m.group(2)
    return out


def test_note_has_both_languages():
    kinds = [interpreter for _, interpreter, _ in paragraphs()]
    assert kinds[0] == "%md", "the note opens with what it needs (jar, package)"
    assert sum(k in SCALA for k in kinds) >= 4 and sum(k in PYTHON for k in kinds) >= 3
    text = "\n".join(code for _, _, code in paragraphs())
    for needed in ("NativeSVMWithSGD.train", "PetBreedExperiment", "z.show", "%html",
                   "paws_spark.NativeSVMWithSGD.train", "paws_spark.run_experiment", "spark.jars"):
        assert needed in text


def test_scala_paragraphs_in_spark_shell(spark_home, jar, output, tmp_path):
    script = tmp_path / "note.scala"
    script.write_text(scala_script(output))
    env = dict(os.environ, PAWS_NOTE_FEATURES=str(SAMPLE), PAWS_NOTE_OUTPUT=str(output),
               SPARK_LOCAL_IP="127.0.0.1")
    cmd = [
        str(spark_home / "bin" / "spark-shell"), "--master", "local[2]", "--jars", str(jar),
        "--conf", "spark.ui.enabled=false", "--conf", "spark.ui.showConsoleProgress=false",
        "--conf", "spark.driver.host=127.0.0.1",
        "--driver-java-options", f"-Djava.io.tmpdir={tmp_path}", "-i", str(script),
    ]
    t0 = time.monotonic()
    # The REPL's output (the paragraphs' own) is stdout; Spark's log goes to stderr.
    p = subprocess.run(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=420)
    (tmp_path / "spark-shell.out").write_text(p.stdout)
    (tmp_path / "spark-shell.err").write_text(p.stderr)
    print(f"spark-shell ran the %spark paragraphs in {time.monotonic() - t0:.1f} s "
          f"(output in {tmp_path}/spark-shell.out, .err)")
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    printed = by_paragraph(p.stdout)
    scala_ids = [pid for pid, interpreter, _ in paragraphs() if interpreter in SCALA]
    assert list(printed) == scala_ids, f"paragraphs run: {list(printed)}\n{p.stdout[-4000:]}{p.stderr[-4000:]}"
    for pid, text in printed.items():
        assert not SCALA_ERROR.search(text), f"{pid} failed:\n{text[-4000:]}"
    check_outputs("scala", "\n".join(printed.values()), output / "scala")


def test_python_paragraphs_in_pyspark(spark, output):
    ns = {"spark": spark, "sc": spark.sparkContext,
          "z": PythonZ({"features": str(SAMPLE), "output": str(output)})}
    printed = []
    for pid, interpreter, code in paragraphs():
        if interpreter not in PYTHON:
            continue
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                exec(compile(code, f"<{pid}>", "exec"), ns)
        except Exception as e:
            raise AssertionError(f"%pyspark paragraph {pid} failed: {e}\nprinted:\n{buf.getvalue()}") from e
        printed.append(buf.getvalue())
    check_outputs("python", "\n".join(printed), output / "python")


def test_both_languages_show_the_same_table(output):
    folders = [output / "scala", output / "python"]
    if not all((f / "results.csv").exists() for f in folders):
        pytest.skip("needs both paragraph runs above")
    scala, python = (results_csv(f) for f in folders)
    assert scala[0] == python[0]
    assert without_timing(scala[1]) == without_timing(python[1])


def check_outputs(language: str, text: str, folder: Path) -> None:
    """The drop-in's line, the table, the plot and the best model, as the note shows them."""
    m = SVM_LINE.search(text)
    assert m and m.group(1) == language, text[-3000:]
    assert float(m.group(2)) > 80.0, m.group(0)  # Abyssinian vs Bengal: CNN features separate them
    assert float(m.group(3)) == 0.0, f"paws and MLlib weights differ: {m.group(0)}"

    tables = shown_tables(text)
    assert len(tables) == 1, f"{len(tables)} tables shown"
    assert_table_is_csv(tables[0], folder)
    rows = tables[0][1]
    assert {(r["class1"], r["class2"]) for r in rows} == {("Abyssinian", "All")}
    assert [r["split"] for r in rows] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]

    images = html_images(text)
    assert images == [(folder / "accuracy.png").read_bytes()]
    assert re.search(r"best model Abyssinian_vs_All: SVMModel, 1280 weights, intercept", text), text[-3000:]
