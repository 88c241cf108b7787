package dev.paws.spark

import org.apache.spark.SparkException
import org.apache.spark.mllib.linalg.Vectors
import org.apache.spark.mllib.regression.LabeledPoint
import org.apache.spark.storage.StorageLevel
import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.function.Executable

/** Input validation in the Spark API, as MLlib's and more. */
class ValidationTest {
  import TestSpark._

  private def exec(f: => Any): Executable = new Executable { def execute(): Unit = f }

  @Test
  def labelsOtherThanZeroAndOneAreRejected(): Unit = {
    val data = points(300, 4, 5)
    data(217) = LabeledPoint(2.0, data(217).features)
    data(250) = LabeledPoint(-1.0, data(250).features)
    val r = rdd(data, 3)
    try {
      val e = assertThrows(classOf[SparkException], exec(NativeSVMWithSGD.train(r, 5)))
      assertTrue(e.getMessage.startsWith("Input validation failed."), e.getMessage)
      assertTrue(e.getMessage.contains("found 2 invalid labels"), e.getMessage)
      assertTrue(e.getMessage.contains("2.0 at row 217"), e.getMessage)
      val l = assertThrows(classOf[SparkException],
        exec(NativeLogisticRegressionWithSGD.train(r, 5)))
      assertTrue(l.getMessage.contains("2.0 at row 217"), l.getMessage)
    } finally r.unpersist()
  }

  @Test
  def inconsistentDimensionsAndNonFiniteValuesAreRejected(): Unit = {
    val data = points(100, 4, 5)
    val ragged = data.updated(60, LabeledPoint(1.0, Vectors.dense(1, 2, 3)))
    val e = assertThrows(classOf[IllegalArgumentException],
      exec(NativeSVMWithSGD.train(rdd(ragged, 2), 5)))
    assertTrue(e.getMessage.contains("row 60 has 3 features, row 0 has 4"), e.getMessage)
    val nan = data.updated(7, LabeledPoint(1.0, Vectors.dense(1, Double.NaN, 3, 4)))
    val n = assertThrows(classOf[IllegalArgumentException],
      exec(NativeSVMWithSGD.train(rdd(nan, 2), 5)))
    assertTrue(n.getMessage.contains("NaN at row 7"), n.getMessage)
    val huge = data.updated(9, LabeledPoint(1.0, Vectors.dense(1, 1e300, 3, 4)))
    val h = assertThrows(classOf[IllegalArgumentException],
      exec(NativeSVMWithSGD.train(rdd(huge, 2), 5)))
    assertTrue(h.getMessage.contains("not finite in float32"), h.getMessage)
  }

  @Test
  def emptyInput(): Unit = {
    val empty = sc.parallelize(Seq.empty[LabeledPoint], 2)
    assertThrows(classOf[IllegalArgumentException], exec(NativeSVMWithSGD.train(empty, 5)))
    // With initial weights, MLlib returns them (with the intercept's initial 1.0).
    val m = new NativeSVMWithSGD().setIntercept(true).run(empty, Vectors.dense(0.5, -0.5))
    assertArrayEquals(Array(0.5, -0.5), m.weights.toArray)
    assertEquals(1.0, m.intercept)
  }

  @Test
  def anInputThatChangesBetweenReadsIsNamed(): Unit = {
    // Not cached: the scan reads each partition once, the conversion again, and the
    // second read differs (one more row, one fewer, a row of another length).
    val data = points(600, 4, 3)
    val more = data :+ data(0)
    // Element 450 is partition 0's 226th row: row 225 as paws numbers the input's rows
    // (partition by partition, in order).
    val ragged = data.updated(450, LabeledPoint(1.0, Vectors.dense(1, 2, 3)))
    for ((second, expect) <- Seq((more, "had more rows"), (data.init, "had fewer rows"),
        (ragged, "gave row 225 another number of features"))) {
      ValidationTest.reads.set(0)
      val r = sc.parallelize(0 until 2, 2).flatMap { p =>
        val rows = if (ValidationTest.reads.getAndIncrement() < 2) data else second
        rows.indices.filter(_ % 2 == p).map(rows)
      }
      val e = assertThrows(classOf[Exception], exec(new NativeSVMWithSGD(1.0, 2, 0.01, 1.0).run(r)))
      val messages = Iterator.iterate[Throwable](e)(_.getCause).takeWhile(_ != null).map(_.getMessage).mkString(" / ")
      assertTrue(messages.contains(expect) && messages.contains("the input RDD must be deterministic"), messages)
    }
  }

  @Test
  def storageLevelIsTheUsersAndParametersAreChecked(): Unit = {
    val r = rdd(points(300, 4, 9), 2)
    val a = new NativeSVMWithSGD(1.0, 10, 0.01, 1.0).setStorageLevel(StorageLevel.DISK_ONLY).run(r)
    val b = new NativeSVMWithSGD(1.0, 10, 0.01, 1.0).run(r)
    assertArrayEquals(b.weights.toArray, a.weights.toArray)
    assertThrows(classOf[IllegalArgumentException], exec(new NativeSVMWithSGD().setStepSize(0)))
    assertThrows(classOf[IllegalArgumentException], exec(new NativeSVMWithSGD().setMiniBatchFraction(0)))
    assertThrows(classOf[IllegalArgumentException],
      exec(new NativeSVMWithSGD().setStorageLevel(StorageLevel.NONE)))
    assertThrows(classOf[IllegalArgumentException],
      exec(NativeSVMWithSGD.train(r, 5, 1.0, 0.01, 1.0, Vectors.dense(1.0))))
  }
}

object ValidationTest {
  /** Partition reads so far (tasks of a local master share the JVM). */
  val reads = new java.util.concurrent.atomic.AtomicInteger()
}
