"""Writes a feature Parquet file as a legacy folder of <image>.json files (one flat JSON
array of floats each, %.6g), the seed job's input shape, for timing
`PetBreedExperiment --features <folder>` against the Parquet path:

    python benches/make_legacy.py target/bench/pets-4096.parquet /tmp/legacy-w1

Needs pyarrow (the bench venv of benches/run.sh has it).
"""
import os
import sys

import pyarrow.parquet as pq


def main(src, out):
    os.makedirs(out, exist_ok=True)
    table = pq.read_table(src)
    images = table.column("image").to_pylist()
    features = table.column("features")
    for i, name in enumerate(images):
        values = features[i].values.to_numpy()
        tmp = os.path.join(out, "." + name + ".json.tmp")
        with open(tmp, "w") as f:
            f.write("[" + ",".join("%.6g" % v for v in values) + "]")
        os.replace(tmp, os.path.join(out, name + ".json"))
    print(f"{len(images)} files in {out}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
