#!/usr/bin/env python3
"""Checks that the demo's quick build and the full builds compile each crate once.

scripts/demo.sh builds `paws` without its `extract` feature; scripts/build.sh,
scripts/build-native.sh and scripts/test.sh build more (tract, image, jni, the tests).
They share compiled crates only when every crate of the quick build gets exactly the
same features in the others (cargo hashes the feature set into each artifact, and a
different hash means a second compilation of that crate and of everything above it).

This script asks cargo for the resolved features of each build (`cargo tree`, no
compilation) and fails, naming the crates and features, when they differ. The fix is
usually a line in rust/workspace-hack/Cargo.toml.

    python3 scripts/check-one-build.py
    python3 scripts/check-one-build.py --compiled target/x86_64-unknown-linux-gnu/release

With --compiled, it looks at what was really compiled instead (after the builds, on a
fresh target directory, as .ci/run does): a registry crate of one version with more than
one library artifact was compiled twice.
"""
import collections
import pathlib
import re
import subprocess
import sys

TARGET = "x86_64-unknown-linux-gnu"

BUILDS = {
    "demo (scripts/demo.sh)": ["-p", "paws-cli", "--no-default-features", "-e", "normal,build"],
    "full (scripts/build.sh, build-native.sh)": ["-p", "paws-cli", "-p", "paws-jni", "-e", "normal,build"],
    "tests (cargo test --workspace)": ["--workspace", "--exclude", "paws-bench", "-e", "normal,build,dev"],
}
# Crates whose features are meant to differ between the builds.
OWN = {"paws-cli"}


def features(args):
    """{"name version": {feature sets}} of one build; a crate built for the host and the
    target has two entries when their features differ."""
    command = ["cargo", "tree", "--locked", "--target", TARGET, "--prefix", "none", "-f", "{p}|{f}", *args]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"error: {' '.join(command)} failed:\n{run.stderr}")
    out = run.stdout
    found = {}
    for line in out.splitlines():
        line = line.replace(" (*)", "").strip()
        if "|" not in line:
            continue
        package, feats = line.split("|", 1)
        found.setdefault(" ".join(package.split(" ")[:2]), set()).add(feats)
    return found


def compiled_twice(release_dir):
    """Registry crates (name, version) with more than one compiled library in deps/."""
    artifacts = collections.defaultdict(set)
    for dep_file in pathlib.Path(release_dir, "deps").glob("*.d"):
        # Make-style rules; the one for the .rlib lists the crate's sources, which are in
        # the registry as <name>-<version>/.
        for line in dep_file.read_text(errors="replace").splitlines():
            target, _, sources = line.partition(": ")
            if not target.endswith(".rlib"):
                continue
            match = re.search(r"/registry/src/[^/]+/([^/ ]+)-(\d[^/ ]*)/", sources)
            if match:
                artifacts[match.groups()].add(pathlib.Path(target).name)
    twice = {crate: files for crate, files in artifacts.items() if len(files) > 1}
    if twice:
        print("error: crates compiled more than once in " + release_dir + ":", file=sys.stderr)
        for (name, version), files in sorted(twice.items()):
            print(f"  {name} {version}: {', '.join(sorted(files))}", file=sys.stderr)
        return 1
    print(f"one build: {len(artifacts)} registry crates in {release_dir}, each compiled once")
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--compiled":
        return compiled_twice(sys.argv[2])
    resolved = {name: features(args) for name, args in BUILDS.items()}
    names = list(BUILDS)
    problems = []
    for i, small in enumerate(names):
        for big in names[i + 1:]:
            for package, feats in sorted(resolved[small].items()):
                if package.split(" ")[0] in OWN or package not in resolved[big]:
                    continue
                # Subset, not equality: a crate may also be built for the host in the
                # bigger build (a build script's dependency) with other features.
                if not feats <= resolved[big][package]:
                    problems.append(
                        f"  {package}: {sorted(feats)} in the {small} build, "
                        f"{sorted(resolved[big][package])} in the {big} build"
                    )
    if problems:
        print("error: crates with other features in one build than in another (each would be "
              "compiled twice); pin the larger feature set in rust/workspace-hack/Cargo.toml:",
              file=sys.stderr)
        print("\n".join(problems), file=sys.stderr)
        return 1
    sizes = ", ".join(f"{len(resolved[n])} in the {n.split(' ')[0]} build" for n in names)
    print(f"one build: every shared crate has the same features in every build ({sizes})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
