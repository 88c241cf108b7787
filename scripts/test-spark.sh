#!/usr/bin/env bash
# Builds the JNI library and runs the Spark shim's tests (Spark local[2], JUnit 5 through
# Maven Surefire): parity with MLlib, PetBreedExperiment's table against `paws
# experiment`'s (and against the `paws` binary when one is built), model save/load, Rust
# panics and errors as Java exceptions, bad shapes, label validation, the native loader,
# the library's glibc floor (no GLIBC_x.y above 2.26: EMR 6 / Amazon Linux 2), both
# spark-submit mains on s3a:// against moto's S3 server (S3aTest).
#
#   bash scripts/test-spark.sh            # scripts/build-native.sh twice, then mvn verify
#   MVN_ARGS="-o" bash scripts/test-spark.sh   # extra Maven arguments (here: offline)
#
# Needs cargo (see scripts/lib.sh), Java 17 and Maven 3.8+; Maven downloads Spark and
# the plugins from Maven Central into ~/.m2 on the first run (about 300 MB), nothing
# is installed by hand. Produces jvm-shim/target/paws-spark-<version>.jar with the
# library inside. The cargo target directory follows CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

need_rust
need_java_maven() {
    local missing=()
    command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
    command -v mvn >/dev/null 2>&1 || missing+=(maven)
    if ((${#missing[@]})); then
        if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
            step "apt-get install ${missing[*]}" bash -c \
                "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing[*]}"
        else
            echo "error: install ${missing[*]} (Java 17 and Maven 3.8+)" >&2
            exit 1
        fi
    fi
}
need_java_maven
# S3aTest's local S3 server (moto, pinned, from PyPI; see scripts/lib.sh).
need_aws_tools

# Two libraries, both cargo zigbuild against glibc 2.17 (scripts/build-native.sh), so
# that they load on EMR 6 (Amazon Linux 2, glibc 2.26) as well as on this machine: the
# test library (paws-jni feature test-hooks: the debug exports the failure tests call),
# which the JUnit tests load (-Dpaws.native.lib), and the shipped one, built last, which
# goes into the jar.
t0=$SECONDS
test_so=$(PAWS_NATIVE_FEATURES=test-hooks bash scripts/build-native.sh)
echo "==> test library: $test_so (built in $((SECONDS - t0)) s)" >&2
t0=$SECONDS
so=$(bash scripts/build-native.sh)
echo "==> native library: $so (built in $((SECONDS - t0)) s)" >&2
# The jar gets the library without its debug info (1.5 MB instead of about 58 MB; the
# symbols stay, so panic backtraces still name functions).
bundled=$so
if command -v objcopy >/dev/null 2>&1; then
    mkdir -p jvm-shim/target/native
    bundled=$PWD/jvm-shim/target/native/libpaws_jni.so
    step "strip debug info" objcopy --strip-debug "$so" "$bundled"
fi
# The glibc floor of what ships (the stripped copy the jar gets): no GLIBC_x.y symbol
# newer than PAWS_GLIBC_MAX (2.26, Amazon Linux 2 / EMR 6). GlibcFloorTest checks the
# jar's resource again from inside the JVM.
glibc_max=${PAWS_GLIBC_MAX:-2.26}
check_glibc_floor() {
    local lib=$1 floor
    floor=$(objdump -T "$lib" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
    echo "glibc floor of $lib: ${floor:-none} (limit GLIBC_$glibc_max)"
    if [[ -n $floor ]] && [[ $(printf '%s\n%s\n' "${floor#GLIBC_}" "$glibc_max" | sort -V | tail -1) != "$glibc_max" ]]; then
        echo "error: $lib needs $floor, newer than GLIBC_$glibc_max: it would not load on EMR 6 (Amazon Linux 2)" >&2
        return 1
    fi
}
if command -v objdump >/dev/null 2>&1; then
    step "glibc floor" check_glibc_floor "$bundled"
else
    echo "warning: objdump not found (binutils): glibc floor checked by GlibcFloorTest only" >&2
fi
# The test hooks (a panic on demand, among others) are in the test library only.
# PAWS_TEST_HOOKS_CHECK=warn downgrades a shipped hook to a warning, for a paws-jni that
# does not gate them yet.
hook_exports() {
    objdump -T "$1" | grep -o 'Java_dev_paws_spark_[A-Za-z_]*debugPanic' || true
}
check_test_hooks() {
    if [[ -z $(hook_exports "$test_so") ]]; then
        echo "error: the test library $test_so has no debugPanic export" >&2
        return 1
    fi
    if [[ -n $(hook_exports "$bundled") ]]; then
        if [[ ${PAWS_TEST_HOOKS_CHECK:-strict} == warn ]]; then
            echo "warning: the shipped library $bundled exports the test hook debugPanic" >&2
        else
            echo "error: the shipped library $bundled exports the test hook debugPanic" >&2
            return 1
        fi
    fi
}
if command -v objdump >/dev/null 2>&1; then
    step "test hooks in the test library only" check_test_hooks
fi
# -B: no colours or progress bars in logs (jvm-shim/.mvn/jvm.config: -Djansi.noreset=true, or
# Maven 3.8's jansi writes ESC[0m resets even in batch mode); verify = compile, test,
# package the jar.
# shellcheck disable=SC2086
step "mvn verify" mvn -B -Dstyle.color=never -f jvm-shim/pom.xml ${MVN_ARGS:-} -Dpaws.native.so="$bundled" \
    -Dpaws.test.native.lib="$test_so" -Dpaws.glibc.max="$glibc_max" verify
jar=jvm-shim/target/paws-spark-$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' jvm-shim/pom.xml | head -1).jar
test_jar=${jar%.jar}-tests.jar
# grep without -q in these pipelines: -q exits at the first match, unzip then dies of
# SIGPIPE on a large listing, and pipefail turns that into a failure.
step "jar holds the library" bash -c "unzip -l '$jar' | grep 'native/linux-x86_64/libpaws_jni.so' >/dev/null"
# The product jar holds the shim only: the test programs (dev/paws/spark/examples/) and
# the tests live in the test jar.
check_product_jar() {
    local stray
    stray=$(unzip -Z1 "$jar" | grep -E '(^|/)examples/|Test[A-Za-z0-9_$]*\.class$|/TestSpark|/TestCli|MLlibAccess' || true)
    if [[ -n $stray ]]; then
        echo "error: $jar holds test classes:" >&2
        echo "$stray" >&2
        return 1
    fi
    unzip -Z1 "$test_jar" | grep '^dev/paws/spark/examples/ClusterSmokeJob.class$' >/dev/null
}
step "no test class in the product jar" check_product_jar
echo "==> built $jar and $test_jar" >&2

# The class-data archive (scripts/spark-cds.sh): made once, then a spark-submit of the
# sample experiment with -Xshare:on, under which a JVM that cannot map the archive
# refuses to start; the class-loading log must show Spark's classes coming from it.
check_class_data_archive() {
    local archive work
    archive=$(bash scripts/spark-cds.sh "$jar")
    work=$(mktemp -d)
    (
        need_spark >/dev/null
        "$SPARK_HOME/bin/spark-submit" --master 'local[2]' --conf spark.driver.host=127.0.0.1 \
            --driver-java-options "-Xshare:on -XX:SharedArchiveFile=$archive -Xlog:class+load=info:file=$work/classes.log" \
            --class dev.paws.spark.PetBreedExperiment "$jar" \
            --features examples/oxford-pets-sample/features.parquet \
            --class Abyssinian --vs Bengal -o "$work/out" >"$work/log" 2>&1
    ) || { tail -20 "$work/log" >&2; echo "error: spark-submit with the archive failed (above)" >&2; return 1; }
    [[ -s $work/out/results.csv ]] || { echo "error: no results.csv from the run with the archive" >&2; return 1; }
    if ! grep 'org.apache.spark.SparkContext ' "$work/classes.log" | grep 'shared objects file (top)' >/dev/null; then
        grep 'org.apache.spark.SparkContext ' "$work/classes.log" >&2 || true
        echo "error: SparkContext was not loaded from the archive $archive" >&2
        return 1
    fi
    echo "$(grep -c 'shared objects file' "$work/classes.log") classes from the archive, $(grep -c 'source: ' "$work/classes.log") loaded"
    rm -rf "$work"
}
step "spark-submit with the class-data archive" check_class_data_archive
