"""Finding the paws-spark classes in the JVM of a PySpark session."""

from __future__ import annotations

from typing import Any

JAR_NAME = "paws-spark-0.1.0.jar"


class PawsJarMissing(RuntimeError):
    """The paws-spark jar is not on the classpath of the running Spark session."""


def jvm_class(sc: Any, name: str) -> Any:
    """The py4j JavaClass `name` (e.g. dev.paws.spark.NativeSVMWithSGD) of `sc`'s JVM.

    py4j answers any unknown dotted name with a JavaPackage rather than an error, and
    the failure would only surface later as "'JavaPackage' object is not callable"; so
    the type is checked here and a missing jar is said plainly.
    """
    from py4j.java_gateway import JavaClass

    obj: Any = sc._jvm
    for part in name.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, JavaClass):
        raise PawsJarMissing(
            f"paws_spark: the class {name} is not on this Spark session's classpath: "
            f"start Spark with the paws jar ({JAR_NAME}, built by `mvn -f jvm-shim/pom.xml package`):\n"
            f"  pyspark --jars /path/to/{JAR_NAME}   (also spark-submit, spark-shell)\n"
            f"  SparkSession.builder.config('spark.jars', '/path/to/{JAR_NAME}')   "
            "(before the first session of the Python process)\n"
            f"  EMR: spark.jars in the spark-defaults classification, or --jars s3://bucket/{JAR_NAME} "
            "in the step; in an EMR notebook, %%configure -f with {\"conf\": {\"spark.jars\": ...}}\n"
            "A jar cannot be added to a session that is already running: restart it."
        )
    return obj
