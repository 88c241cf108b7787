"""The Zeppelin note emr/zeppelin/paws-pet-breeds.zpln, run as Zeppelin would run it:
its %spark paragraphs in order in one spark-shell (the paws jar on --jars; started in
the background by conftest.py), its %pyspark paragraphs in order in one PySpark
session, each with a stub `z` whose forms point at the sample features and a temporary
output folder. The tables they show must be the output folders' results.csv, and both
languages must get the same table."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from notelib import (
    PARAGRAPH_BEGIN,
    PARAGRAPH_END,
    PYTHON,
    SAMPLE,
    SCALA,
    SVM_LINE,
    PythonZ,
    assert_table_is_csv,
    html_images,
    paragraphs,
    results_csv,
    shown_tables,
    without_timing,
)

# What spark-shell prints for a paragraph that did not compile or threw.
SCALA_ERROR = re.compile(r"^(<console>:\d+: error:|error:|[\w.$]+(Exception|Error)(: |$))", re.M)


def by_paragraph(text: str) -> dict:
    """What each paragraph printed, by id."""
    return {
        m.group(1): m.group(2)
        for m in re.finditer(rf"^{PARAGRAPH_BEGIN}(\S+)\n(.*?)^{PARAGRAPH_END}\1$", text, re.M | re.S)
    }


def test_note_has_both_languages():
    kinds = [interpreter for _, interpreter, _ in paragraphs()]
    assert kinds[0] == "%md", "the note opens with what it needs (jar, package)"
    assert sum(k in SCALA for k in kinds) >= 4 and sum(k in PYTHON for k in kinds) >= 3
    text = "\n".join(code for _, _, code in paragraphs())
    for needed in ("NativeSVMWithSGD.train", "PetBreedExperiment", "z.show", "%html",
                   "paws_spark.NativeSVMWithSGD.train", "paws_spark.run_experiment", "spark.jars"):
        assert needed in text


def test_python_paragraphs_in_pyspark(spark, outputs):
    ns = {"spark": spark, "sc": spark.sparkContext,
          "z": PythonZ({"features": str(SAMPLE), "output": str(outputs / "zeppelin")})}
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
    check_outputs("python", "\n".join(printed), outputs / "zeppelin" / "python")


def test_scala_paragraphs_in_spark_shell(background, outputs):
    run = background.wait("spark-shell", timeout=420)
    print(f"spark-shell ran the %spark paragraphs in {run.seconds:.1f} s (logs in {run.logs})")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    printed = by_paragraph(run.stdout)
    # spark-shell -i stops at the first statement that fails to compile or throws: the
    # paragraph that began last without ending is the one that failed.
    started = re.findall(rf"^{PARAGRAPH_BEGIN}(\S+)$", run.stdout, re.M)
    if started and started[-1] not in printed:
        failed = run.stdout[run.stdout.rindex(PARAGRAPH_BEGIN + started[-1]):]
        raise AssertionError(f"%spark paragraph {started[-1]} failed:\n{failed[-4000:]}")
    scala_ids = [pid for pid, interpreter, _ in paragraphs() if interpreter in SCALA]
    assert list(printed) == scala_ids, f"paragraphs run: {list(printed)}\n{run.stdout[-4000:]}{run.stderr[-4000:]}"
    for pid, text in printed.items():
        assert not SCALA_ERROR.search(text), f"{pid} failed:\n{text[-4000:]}"
    check_outputs("scala", "\n".join(printed.values()), outputs / "zeppelin" / "scala")


def test_both_languages_show_the_same_table(background, outputs):
    background.wait("spark-shell", timeout=420)
    scala, python = (results_csv(outputs / "zeppelin" / lang) for lang in ("scala", "python"))
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
