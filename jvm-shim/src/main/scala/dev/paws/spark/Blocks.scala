package dev.paws.spark

import org.apache.spark.{Partitioner, SparkException}
import org.apache.spark.mllib.linalg.DenseVector
import org.apache.spark.mllib.regression.LabeledPoint
import org.apache.spark.rdd.RDD
import org.apache.spark.storage.StorageLevel
import org.slf4j.LoggerFactory

/** What a scan of one input partition found. */
private[spark] case class PartitionScan(
    index: Int,
    count: Long,
    dim: Int,
    dimMismatchRow: Long,
    dimMismatchSize: Int,
    badLabels: Long,
    firstBadLabel: Double,
    firstBadLabelRow: Long,
    nonFinite: Long,
    firstNonFiniteRow: Long,
    firstNonFiniteValue: Double,
    inexact: Long)

/** The input as cached float32 blocks, persisted; unpersist `blocks` when done. */
final case class PreparedBlocks(blocks: RDD[RowBlock], numRows: Long, dim: Int)

/**
 * Converts an `RDD[LabeledPoint]` once into [[RowBlock]]s.
 *
 * Rows are numbered in the RDD's order (as `zipWithIndex` would) and cut into chunks of
 * `NativeKernels.CHUNK_ROWS` rows. A chunk that lies inside one partition becomes a
 * block right there; a chunk that straddles two or more partitions is sent (only its
 * pieces, less than two chunks per partition) through a small shuffle and reassembled
 * in row order. Every chunk is thus whole in one block, so the exact gradient sum is
 * the in-process engine's, bit for bit, whatever the partitioning.
 *
 * The input is read twice (a scan that counts and validates, then the conversion), as
 * MLlib does; cache it if it is expensive to compute. Its row order must be
 * deterministic (Spark's own requirement for lineage recomputation): a partition whose
 * row count changes between the two reads fails the job.
 */
object Blocks {
  private val log = LoggerFactory.getLogger(getClass)
  private val C = NativeKernels.CHUNK_ROWS.toLong

  def fromLabeledPoints(
      input: RDD[LabeledPoint],
      validateLabels: Boolean,
      storageLevel: StorageLevel): PreparedBlocks = {
    val scans = scan(input)
    val counts = scans.map(_.count)
    val starts = counts.scanLeft(0L)(_ + _)
    val n = starts.last
    val dim = check(scans, starts, validateLabels)
    if (n == 0) {
      return PreparedBlocks(input.sparkContext.emptyRDD[RowBlock], 0L, dim)
    }
    val startsB = starts.init
    val whole = pieces(input, startsB, counts, n, dim, keepComplete = true)
    val straddling = partialChunks(startsB, counts, n)
    val blocks = if (straddling == 0) {
      whole
    } else {
      // Each straddling chunk joins the partition that holds its first row: the cached
      // blocks keep the input's partition count, so treeAggregate over them has MLlib's
      // shape (a union would add partitions, and with them a shuffle stage per pass).
      val merged = pieces(input, startsB, counts, n, dim, keepComplete = false)
        .map(b => (b.chunk, b))
        .groupByKey(new ChunkOwner(startsB, counts))
        .map { case (_, ps) => ps.toArray.sortBy(_.firstRow).reduceLeft(_ append _) }
      whole.zipPartitions(merged)((a, b) => a ++ b)
    }
    blocks.setName(s"paws blocks ($n rows x $dim, float32)").persist(storageLevel)
    val total = blocks.map(_.numRows.toLong).fold(0L)(_ + _)
    if (total != n) {
      blocks.unpersist(blocking = false)
      throw new IllegalStateException(
        s"paws: blocks hold $total rows, the input had $n: is the input RDD deterministic?")
    }
    PreparedBlocks(blocks, n, dim)
  }

  private def scan(input: RDD[LabeledPoint]): Array[PartitionScan] = {
    input.mapPartitionsWithIndex { (p, it) =>
      var count = 0L
      var dim = -1
      var mismatchRow = -1L
      var mismatchSize = 0
      var bad = 0L
      var badLabel = 0.0
      var badRow = -1L
      var nonFinite = 0L
      var nonFiniteRow = -1L
      var nonFiniteValue = 0.0
      var inexact = 0L
      while (it.hasNext) {
        val lp = it.next()
        val size = lp.features.size
        if (dim < 0) {
          dim = size
        } else if (size != dim && mismatchRow < 0) {
          mismatchRow = count
          mismatchSize = size
        }
        val y = lp.label
        if (y != 0.0 && y != 1.0) {
          if (badRow < 0) {
            badRow = count
            badLabel = y
          }
          bad += 1
        }
        val row = count
        lp.features.foreachActive { (_, v) =>
          val f = v.toFloat
          if (f.isNaN || f.isInfinite) {
            if (nonFiniteRow < 0) {
              nonFiniteRow = row
              nonFiniteValue = v
            }
            nonFinite += 1
          } else if (f.toDouble != v) {
            inexact += 1
          }
        }
        count += 1
      }
      Iterator.single(PartitionScan(p, count, dim, mismatchRow, mismatchSize, bad, badLabel,
        badRow, nonFinite, nonFiniteRow, nonFiniteValue, inexact))
    }.collect().sortBy(_.index)
  }

  /** Checks the scans (labels, one dimension, finite float32 values); returns dim. */
  private def check(scans: Array[PartitionScan], starts: Array[Long], validateLabels: Boolean): Int = {
    val bad = scans.map(_.badLabels).sum
    if (validateLabels && bad > 0) {
      val s = scans.find(_.badLabels > 0).get
      throw new SparkException(
        s"Input validation failed. Classification labels should be 0 or 1: found $bad invalid " +
          s"labels, the first is ${s.firstBadLabel} at row ${starts(s.index) + s.firstBadLabelRow}.")
    }
    val withRows = scans.filter(_.count > 0)
    val dim = if (withRows.isEmpty) -1 else withRows.head.dim
    for (s <- withRows) {
      if (s.dim != dim) {
        throw new IllegalArgumentException(
          s"paws: row ${starts(s.index)} has ${s.dim} features, row 0 has $dim: " +
            "all rows must have the same number")
      }
      if (s.dimMismatchRow >= 0) {
        throw new IllegalArgumentException(
          s"paws: row ${starts(s.index) + s.dimMismatchRow} has ${s.dimMismatchSize} features, " +
            s"row 0 has $dim: all rows must have the same number")
      }
    }
    if (dim == 0) {
      throw new IllegalArgumentException("paws: rows have no features")
    }
    val nonFinite = scans.map(_.nonFinite).sum
    if (nonFinite > 0) {
      val s = scans.find(_.nonFinite > 0).get
      throw new IllegalArgumentException(
        s"paws: $nonFinite feature values are not finite in float32, the first is " +
          s"${s.firstNonFiniteValue} at row ${starts(s.index) + s.firstNonFiniteRow}")
    }
    val inexact = scans.map(_.inexact).sum
    if (inexact > 0) {
      log.warn(s"paws: $inexact feature values are not exactly representable in float32 and " +
        "are rounded: results differ from MLlib's (float64) in the last digits")
    }
    dim
  }

  /** Sends chunk `c` to the non-empty input partition that holds row `c · CHUNK_ROWS`. */
  private final class ChunkOwner(starts: Array[Long], counts: Array[Long]) extends Partitioner {
    private val firstRows = starts.indices.filter(counts(_) > 0).map(p => (starts(p), p)).toArray
    override def numPartitions: Int = starts.length
    override def getPartition(key: Any): Int = {
      val row = key.asInstanceOf[Long] * C
      var lo = 0
      var hi = firstRows.length - 1
      while (lo < hi) { // the last non-empty partition starting at or before `row`
        val mid = (lo + hi + 1) >>> 1
        if (firstRows(mid)._1 <= row) lo = mid else hi = mid - 1
      }
      firstRows(lo)._2
    }
  }

  /** Number of chunks split between partitions. */
  private def partialChunks(starts: Array[Long], counts: Array[Long], n: Long): Int = {
    val chunks = scala.collection.mutable.HashSet[Long]()
    for (p <- counts.indices if counts(p) > 0) {
      val (s, e) = (starts(p), starts(p) + counts(p))
      // Only a partition's first and last piece can be partial.
      for (idx <- Seq(s, math.max(s, (e - 1) / C * C))) {
        if (!isComplete(idx, e, n)) chunks += idx / C
      }
    }
    chunks.size
  }

  /** Whether the piece of a partition ending at `end` that starts at `idx` is a whole chunk. */
  private def isComplete(idx: Long, end: Long, n: Long): Boolean = {
    val chunkStart = idx / C * C
    val chunkStop = math.min(chunkStart + C, n)
    idx == chunkStart && math.min(chunkStart + C, end) == chunkStop
  }

  /** The pieces of each partition that are whole chunks (or only the others). */
  private def pieces(
      input: RDD[LabeledPoint],
      starts: Array[Long],
      counts: Array[Long],
      n: Long,
      dim: Int,
      keepComplete: Boolean): RDD[RowBlock] = {
    val chunk = C
    input.mapPartitionsWithIndex({ (p, it) =>
      val start = starts(p)
      val end = start + counts(p)
      def changed(what: String) = new IllegalStateException(
        s"paws: partition $p of the input $what between two reads: the input RDD must be " +
          "deterministic (cache it, or fix its order)")
      new Iterator[RowBlock] {
        private var idx = start
        private var pending: RowBlock = null

        private def fill(): Unit = {
          while (pending == null && idx < end) {
            val chunkStart = idx / chunk * chunk
            val pieceEnd = math.min(chunkStart + chunk, end)
            val complete = idx == chunkStart && pieceEnd == math.min(chunkStart + chunk, n)
            val len = (pieceEnd - idx).toInt
            if (complete == keepComplete) {
              val rows = new Array[Float](len * dim)
              val labels = new Array[Double](len)
              var k = 0
              while (k < len) {
                if (!it.hasNext) throw changed("had fewer rows")
                val lp = it.next()
                if (lp.features.size != dim) throw changed("changed its feature dimension")
                labels(k) = lp.label
                val base = k * dim
                lp.features match {
                  case d: DenseVector =>
                    val v = d.values
                    var j = 0
                    while (j < dim) {
                      rows(base + j) = v(j).toFloat
                      j += 1
                    }
                  case other =>
                    other.foreachActive((j, v) => rows(base + j) = v.toFloat)
                }
                k += 1
              }
              pending = new RowBlock(idx, dim, rows, labels)
            } else {
              var k = 0
              while (k < len) {
                if (!it.hasNext) throw changed("had fewer rows")
                it.next()
                k += 1
              }
            }
            idx = pieceEnd
          }
          if (pending == null && idx == end && it.hasNext) throw changed("had more rows")
        }

        override def hasNext: Boolean = {
          fill()
          pending != null
        }

        override def next(): RowBlock = {
          fill()
          if (pending == null) throw new NoSuchElementException
          val b = pending
          pending = null
          b
        }
      }
    }, preservesPartitioning = true)
  }
}
