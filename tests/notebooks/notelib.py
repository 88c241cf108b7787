"""Helpers of the notebook tests: the Zeppelin note's paragraphs, the stub `z` they
run with, and results.csv as the typed rows the notebooks' tables should hold."""

from __future__ import annotations

import base64
import csv
import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

REPO = Path(__file__).resolve().parents[2]
NOTE = REPO / "emr" / "zeppelin" / "paws-pet-breeds.zpln"
NOTEBOOK = REPO / "emr" / "notebooks" / "paws-pet-breeds.ipynb"
SAMPLE = REPO / "examples" / "oxford-pets-sample" / "features.parquet"

SCALA = ("%spark", "%spark.spark")
PYTHON = ("%pyspark", "%spark.pyspark")
TEXT = ("%md", "%html")

# What a stub z.show prints around a table: the schema, then one JSON object a row.
SHOW_BEGIN = "PAWS-ZSHOW-BEGIN "
SHOW_END = "PAWS-ZSHOW-END"

SVM_LINE = re.compile(
    r"paws svm \((scala|python)\): test accuracy ([\d.]+) %, largest weight difference from MLlib (\S+)"
)


def paragraphs() -> List[Tuple[str, str, str]]:
    """The note's paragraphs as (id, interpreter, code without the interpreter line)."""
    note = json.loads(NOTE.read_text())
    out = []
    for p in note["paragraphs"]:
        first, _, body = p["text"].partition("\n")
        interpreter = first.strip().split()[0]
        assert interpreter in SCALA + PYTHON + TEXT, f"{p['id']}: unexpected interpreter {interpreter}"
        out.append((p["id"], interpreter, body))
    return out


def join_leading_dots(code: str) -> str:
    """Zeppelin's Scala interpreter continues a statement on a line that starts with `.`
    (a method chain); spark-shell's REPL, reading line by line, would not."""
    lines: List[str] = []
    for line in code.split("\n"):
        s = line.strip()
        if lines and s.startswith(".") and not s.startswith(("..", "./")):
            lines[-1] += s
        else:
            lines.append(line)
    return "\n".join(lines)


# A stub of Zeppelin's ZeppelinContext for spark-shell: forms answer from PAWS_NOTE_<NAME>
# (the default otherwise), show prints the table between markers.
SCALA_Z = """
object z {
  def textbox(name: String, defaultValue: String): Object =
    sys.env.getOrElse("PAWS_NOTE_" + name.toUpperCase, defaultValue)
  def show(df: org.apache.spark.sql.DataFrame): Unit = {
    println("%s" + df.schema.json)
    df.toJSON.collect().foreach(println)
    println("%s")
  }
}
""" % (SHOW_BEGIN, SHOW_END)


class PythonZ:
    """The same stub for %pyspark paragraphs."""

    def __init__(self, forms: Dict[str, str]):
        self.forms = forms

    def textbox(self, name: str, defaultValue: str = "") -> str:
        return self.forms.get(name, defaultValue)

    def show(self, df) -> None:
        print(SHOW_BEGIN + df.schema.json())
        for row in df.toJSON().collect():
            print(row)
        print(SHOW_END)


def shown_tables(text: str) -> List[Tuple[List[str], List[dict]]]:
    """The tables a stub z.show printed: (column names, rows as dicts) each."""
    tables = []
    lines = iter(text.splitlines())
    for line in lines:
        if line.startswith(SHOW_BEGIN):
            schema = json.loads(line[len(SHOW_BEGIN):])
            rows = []
            for row in lines:
                if row == SHOW_END:
                    break
                rows.append(json.loads(row))
            tables.append(([f["name"] for f in schema["fields"]], rows))
    return tables


PARAGRAPH_BEGIN = "PAWS-PARAGRAPH-BEGIN "
PARAGRAPH_END = "PAWS-PARAGRAPH-END "


def scala_script() -> str:
    """The note's %spark paragraphs as one spark-shell script, in order, each between
    markers, after the stub `z`."""
    parts = [SCALA_Z]
    for pid, interpreter, code in paragraphs():
        if interpreter in SCALA:
            parts += [f'println("{PARAGRAPH_BEGIN}{pid}")', join_leading_dots(code),
                      f'println("{PARAGRAPH_END}{pid}")']
    parts.append("System.exit(0)")
    return "\n".join(parts) + "\n"


def spark_shell_command(spark_home: Path, jar: Path, script: Path, tmp: Path) -> List[str]:
    """spark-shell running `script` on local[2] with the paws jar, as a Zeppelin Spark
    interpreter with spark.jars would have it."""
    return [
        str(spark_home / "bin" / "spark-shell"), "--master", "local[2]", "--jars", str(jar),
        "--conf", "spark.ui.enabled=false", "--conf", "spark.ui.showConsoleProgress=false",
        "--conf", "spark.driver.host=127.0.0.1",
        "--driver-java-options", f"-Djava.io.tmpdir={tmp}", "-i", str(script),
    ]


def html_images(text: str) -> List[bytes]:
    """The PNGs of `%html <img src="data:image/png;base64,...">` lines."""
    return [
        base64.b64decode(m.group(1))
        for m in re.finditer(r'^%html <img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text, re.M)
    ]


def results_csv(folder: Path) -> Tuple[List[str], List[dict]]:
    """results.csv of an output folder: its header and rows, numbers as numbers."""
    with open(folder / "results.csv", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [dict(zip(header, (_number(v) for v in r))) for r in reader]
    return header, rows


def _number(v: str):
    for kind in (int, float):
        try:
            return kind(v)
        except ValueError:
            pass
    return v


def assert_table_is_csv(shown: Tuple[List[str], List[dict]], folder: Path) -> None:
    """A table a notebook showed holds results.csv of `folder`: columns, rows, values."""
    header, rows = results_csv(folder)
    columns, shown_rows = shown
    assert columns == header
    assert len(shown_rows) == len(rows) > 0
    for got, want in zip(shown_rows, rows):
        assert set(got) == set(want), (got, want)
        for c in header:
            assert got[c] == want[c], f"{c}: shown {got[c]!r}, results.csv {want[c]!r}"


def without_timing(rows: List[dict]) -> List[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    logs: Path


class Background:
    """Processes started at the beginning of the session and awaited by the tests that
    check them (spark-shell for the %spark paragraphs, nbclient for the Jupyter
    notebook), so that their JVMs start and run while the other tests run."""

    def __init__(self) -> None:
        self._runs: Dict[str, tuple] = {}

    def start(self, name: str, cmd: List[str], env: Dict[str, str], cwd: Path, logs: Path) -> None:
        out, err = (open(logs / f"{name}.{ext}", "w") for ext in ("out", "err"))
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                             start_new_session=True)
        self._runs[name] = (p, out, err, time.monotonic(), logs)

    def wait(self, name: str, timeout: float) -> Finished:
        assert name in self._runs, f"{name} was not started (see conftest.py)"
        p, out, err, t0, logs = self._runs[name]
        try:
            p.wait(timeout=max(1.0, timeout - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            self._kill(p)
            raise AssertionError(f"{name} ran longer than {timeout} s (logs in {logs})")
        finally:
            out.close()
            err.close()
        read = lambda ext: (logs / f"{name}.{ext}").read_text()
        return Finished(p.returncode, read("out"), read("err"), time.monotonic() - t0, logs)

    def stop(self) -> None:
        for p, out, err, _, _ in self._runs.values():
            if p.poll() is None:
                self._kill(p)
            out.close()
            err.close()

    @staticmethod
    def _kill(p: subprocess.Popen) -> None:
        # Its own process group (start_new_session): the JVM it started goes too.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
