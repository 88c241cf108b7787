package dev.paws.spark

import org.apache.spark.mllib.classification.SVMWithSGD
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test

/**
 * One `NativeSVMWithSGD.train(rdd, 100, 1.0, 0.01, 1.0)` against MLlib's on the same
 * cached RDD, printed (`TIMING drop-in ...`), never asserted. Off by default:
 * `mvn -Dtest=DropInTimingTest -Dpaws.timing=true test`.
 */
class DropInTimingTest {
  import TestSpark._

  @Test
  def oneDropInTrain(): Unit = {
    assumeTrue(java.lang.Boolean.getBoolean("paws.timing"), "-Dpaws.timing=true runs it")
    val (rows, dim, parts) = (50000, 100, 4)
    val input = rdd(points(rows, dim, seed = 3), parts)
    try {
      input.count()
      SVMWithSGD.train(input, 10, 1.0, 0.01, 1.0)
      NativeSVMWithSGD.train(input, 10, 1.0, 0.01, 1.0)
      for (run <- 1 to 2) {
        val t0 = System.nanoTime()
        SVMWithSGD.train(input, 100, 1.0, 0.01, 1.0)
        val t1 = System.nanoTime()
        NativeSVMWithSGD.train(input, 100, 1.0, 0.01, 1.0)
        val t2 = System.nanoTime()
        println(f"TIMING drop-in run $run: train(rdd, 100, 1.0, 0.01, 1.0) on a cached RDD of $rows x $dim " +
          f"in $parts partitions, local[2]: MLlib ${(t1 - t0) / 1e9}%.2f s, paws ${(t2 - t1) / 1e9}%.2f s")
      }
    } finally input.unpersist()
  }
}
