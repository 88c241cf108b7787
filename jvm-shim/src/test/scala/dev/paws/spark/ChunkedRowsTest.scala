package dev.paws.spark

import dev.paws.spark.jni.NativeKernels
import java.util.Random

import org.apache.spark.SparkException
import org.apache.spark.rdd.RDD
import org.apache.spark.storage.StorageLevel
import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.function.Executable

/** Rows keyed by global index become cached blocks of whole chunks, however they come. */
class ChunkedRowsTest {
  import ChunkedRowsTest._
  private val sc = TestSpark.sc
  private val C = NativeKernels.CHUNK_ROWS

  /** The rows `0 until n` as `parts` partitions holding the given runs, shuffled inside. */
  private def input(runs: Seq[Seq[Long]], seed: Long): RDD[(Long, Array[Float])] = {
    val parts = runs.map { rs =>
      val a = rs.toArray
      val r = new Random(seed)
      for (i <- a.indices.reverse) { val k = r.nextInt(i + 1); val t = a(i); a(i) = a(k); a(k) = t }
      a.toSeq
    }
    sc.parallelize(parts, parts.length).mapPartitions(_.flatMap(_.map(g => (g, features(g)))))
  }

  private def check(what: String, n: Long, runs: Seq[Seq[Long]], wanted: Int, layout: String): Unit = {
    val built = ChunkedRows.build(input(runs, n), Chunks.all(n), wanted, StorageLevel.MEMORY_ONLY, what, g => s"row $g")
    try {
      assertEquals(dim, built.dim, what)
      assertTrue(built.layout.startsWith(layout), s"$what: layout '${built.layout}', expected '$layout...'")
      val blocks = built.blocks.collect().sortBy(_.firstRow)
      val expected = (0L until n by C.toLong).map(s => (s, math.min(C.toLong, n - s).toInt))
      assertEquals(expected, blocks.map(b => (b.firstRow, b.numRows)).toSeq, s"$what: each chunk whole, once")
      for (b <- blocks; i <- 0 until b.numRows) {
        assertArrayEquals(features(b.firstRow + i), b.rows.slice(i * dim, (i + 1) * dim), s"$what: row ${b.firstRow + i}")
      }
    } finally built.blocks.unpersist()
  }

  @Test
  def everyPartitioningGivesWholeChunksInRowOrder(): Unit = {
    val n = 1000L
    val all = (0L until n).toSeq
    // Contiguous ranges (Parquet splits), split inside chunks: kept, pieces joined.
    check("4 ranges", n, all.grouped(250).toSeq, 2, "kept in the 4 input partitions")
    // Ranges on chunk boundaries: no piece at all.
    check("chunk-aligned", n, Seq(all.take(512), all.drop(512)), 2, "kept")
    // Scattered rows (legacy files in any order) and an empty partition.
    check("round robin", n, (0 until 3).map(p => all.filter(_ % 3 == p)) :+ Seq.empty, 2, "kept")
    // One partition holding everything (a file of one row group): spread over `wanted`.
    check("one split", n, Seq(all, Seq.empty), 2, "spread over 2 partitions")
    check("one partition", n, Seq(all), 3, "spread over 3 partitions")
    // Fewer rows than a chunk.
    check("tiny", 7L, Seq((0L until 7L).toSeq, Seq.empty), 2, "kept")
  }

  private def fails(expect: String)(f: => Any): Unit = {
    val e = assertThrows(classOf[Exception], new Executable { def execute(): Unit = f })
    val msgs = Iterator.iterate[Throwable](e)(_.getCause).takeWhile(_ != null).map(_.getMessage).mkString(" / ")
    assertTrue(msgs.contains(expect), s"'$msgs' should contain '$expect'")
  }

  @Test
  def duplicateMissingAndRaggedRowsAreErrors(): Unit = {
    val all = (0L until 600L).toSeq
    def build(rdd: RDD[(Long, Array[Float])], n: Long) =
      ChunkedRows.build(rdd, Chunks.all(n), 2, StorageLevel.MEMORY_ONLY, "bad", g => s"row $g of the test")
    // A row read twice in one partition, or in two.
    fails("row 5 of the test was read twice")(build(input(Seq(all :+ 5L), 1), 600))
    fails("is the input deterministic?")(build(input(Seq(all, Seq(300L)), 1), 600))
    // A missing row.
    fails("is the input deterministic?")(build(input(Seq(all.filter(_ != 260L), Seq.empty), 1), 600))
    // A row outside 0..n-1.
    fails("row index 600 outside 0..599")(build(input(Seq(all :+ 600L), 1), 600))
    // Rows of another length, in the same partition or in another one.
    val ragged = (p: Int) => sc.parallelize(Seq(all.take(300), all.drop(300)), 2).mapPartitionsWithIndex {
      (i, it) => it.flatMap(_.map(g => (g, if (i == p && g == 450L) Array(1f) else features(g))))
    }
    fails("row 450 of the test has 1 features")(build(ragged(1), 600))
    // In another partition: found on the driver, or (a chunk straddling the two) in a task.
    val other = (split: Int) => sc.parallelize(Seq(all.take(split), all.drop(split)), 2).mapPartitionsWithIndex {
      (i, it) => it.flatMap(_.map(g => (g, if (i == 1) Array(1f, 2f) else features(g))))
    }
    val e = assertThrows(classOf[ChunkedRows.DimMismatch], new Executable {
      def execute(): Unit = build(other(256), 600)
    })
    assertEquals((256L, 2, 0L, 3), (e.row, e.found, e.firstRow, e.expected))
    fails("row 300 has 2 features, row 256 has 3")(build(other(300), 600))
    // Nothing stays cached after a failure.
    assertTrue(sc.getPersistentRDDs.values.forall(r => !String.valueOf(r.name).startsWith("bad")),
      sc.getPersistentRDDs.values.map(_.name).mkString(", "))
  }
}

object ChunkedRowsTest {
  val dim = 3

  /** Row g's features: unique per row and position, so misplaced rows are seen. */
  def features(g: Long): Array[Float] = Array.tabulate(dim)(j => (g * dim + j).toFloat)
}
