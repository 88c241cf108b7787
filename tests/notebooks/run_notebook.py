"""Executes a Jupyter notebook with nbclient (a kernel of its own) and writes the
executed copy, outputs included, even when a cell fails (then exit 1):

    python run_notebook.py IN.ipynb OUT.ipynb WORKING_DIR

test_jupyter.py starts it in the background (conftest.py), beside the other tests."""

import sys

import nbformat
from nbclient import NotebookClient


def main() -> int:
    src, dst, cwd = sys.argv[1:4]
    nb = nbformat.read(src, as_version=4)
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": cwd}}).execute()
    finally:
        nbformat.write(nb, dst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
