"""The Jupyter notebook emr/notebooks/paws-pet-breeds.ipynb, executed end to end with
nbclient in a kernel of its own (local Spark with the paws jar), and kept in git with
its outputs cleared."""

from __future__ import annotations

import base64

import nbformat

from notelib import NOTEBOOK, SVM_LINE, results_csv


def test_notebook_is_kept_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    for c in code:
        assert c.outputs == [] and c.execution_count is None, f"cell {c.get('id')} keeps outputs: clear them"


def test_notebook_runs_end_to_end(background, outputs):
    # Started by conftest.py: run_notebook.py, with PAWS_FEATURES (the sample),
    # PAWS_OUTPUT and PAWS_SPARK_JAR for the notebook's first cell.
    run = background.wait("jupyter", timeout=420)
    print(f"the notebook ran in {run.seconds:.1f} s (logs in {run.logs})")
    assert run.returncode == 0, run.stderr[-6000:]
    nb = nbformat.read(run.logs / "executed.ipynb", as_version=4)
    output = outputs / "jupyter"

    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                   if o.output_type == "stream" and o.name == "stdout")
    images = [base64.b64decode(o.data["image/png"]) for c in nb.cells if c.cell_type == "code"
              for o in c.outputs if "image/png" in o.get("data", {})]

    m = SVM_LINE.search(text)
    assert m, text
    assert float(m.group(2)) > 80.0 and float(m.group(3)) == 0.0, m.group(0)

    # The table shown (DataFrame.show) holds results.csv's rows.
    _, rows = results_csv(output)
    assert len(rows) == 9
    shown = [[cell.strip() for cell in line.strip("|").split("|")]
             for line in text.splitlines() if line.startswith("|")]
    header, body = shown[0], shown[1:]
    assert header == ["class1", "class2", "split", "predict_pct", "nb_train", "nb_test", "nb_correct", "f1"]
    assert len(body) == len(rows)
    for got, want in zip(body, rows):
        for column, value in zip(header, got):
            expected = want[column]
            if isinstance(expected, str):
                assert value == expected, (column, got, want)
            else:
                assert float(value) == float(expected), (column, got, want)

    assert images == [(output / "accuracy.png").read_bytes()]
    assert "best model Abyssinian_vs_All: SVMModel, 1280 weights" in text, text
    assert (output / "_SUCCESS").exists()
