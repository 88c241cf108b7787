package dev.paws.spark

import org.apache.spark.{SparkContext, SparkException}
import org.apache.spark.mllib.linalg.{DenseVector, SparseVector}
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
    inexact: Long,
    nonZero: Long)

/**
 * The input as cached float32 blocks, persisted; unpersist `blocks` when done.
 *
 * @param format "dense" or "sparse" (see [[BlockFormat]])
 */
final case class PreparedBlocks(blocks: RDD[RowBlock], numRows: Long, dim: Int, format: String = "dense")

/**
 * Dense or sparse blocks: `spark.paws.blockFormat` (a local property or the Spark conf)
 * is `auto` (the default), `dense` or `sparse`. Either gives the same weights, bit for
 * bit. Sparse blocks cost 8 bytes a non-zero value where dense ones cost 4 a value, and
 * the sparse kernel gathers the weights of each non-zero value (about 1.5–2 ns each on one
 * core) where the dense one streams whole rows at memory speed, so auto picks sparse at or
 * below [[SparseAtMost]] non-zero values. `paws-bench sparse` (one model's pass, one core,
 * 7,349 rows of 4,096 features, 2026-12-03): sparse blocks took 0.15, 0.40–0.45, 0.61–0.75
 * and 0.92–1.08 times the dense pass at 6, 15, 25 and 37 % non-zero values; the drop-in
 * benchmark's 25 % rows trained no faster through Spark (two runs: kernel 1.70 and 1.36 s
 * against 1.63 and 1.59 s dense, summed over tasks; preparation 0.69 and 0.53 s against
 * 0.42 and 0.38 s; benches/README.md). An input of `SparseVector`s of many
 * features (text, hashed features) is where they matter: no dense copy of its rows.
 */
object BlockFormat {
  val Conf = "spark.paws.blockFormat"
  val SparseAtMost = 0.2

  /** (sparse?, why) for `nonZero` values in `n` rows of `dim` features. */
  private[spark] def choose(sc: SparkContext, nonZero: Long, n: Long, dim: Int): (Boolean, String) = {
    val setting = Option(sc.getLocalProperty(Conf)).orElse(sc.getConf.getOption(Conf)).getOrElse("auto")
    val share = if (n == 0 || dim <= 0) 1.0 else nonZero.toDouble / n / dim
    val found = f"${share * 100}%.1f %% of the values are non-zero"
    setting match {
      case "dense" => (false, s"$Conf=dense; $found")
      case "sparse" => (true, s"$Conf=sparse; $found")
      case "auto" if share <= SparseAtMost => (true, f"$found (sparse at or below ${SparseAtMost * 100}%.0f %%)")
      case "auto" => (false, f"$found (sparse at or below ${SparseAtMost * 100}%.0f %%)")
      case other => throw new IllegalArgumentException(s"paws: $Conf must be auto, dense or sparse, got '$other'")
    }
  }
}

/**
 * An `RDD[LabeledPoint]` as the drop-ins train on it: validated as MLlib validates it,
 * numbered in the RDD's order (as `zipWithIndex` would), then cut into cached blocks by
 * [[ChunkedRows]] in the input's partitions.
 *
 * The input is read twice (a scan that counts and validates, then the conversion), as
 * MLlib does; cache it if it is expensive to compute. Its row order must be
 * deterministic (Spark's own requirement for lineage recomputation): a partition whose
 * rows change between the two reads fails the job.
 */
private[spark] object LabeledInput {
  private val log = LoggerFactory.getLogger(getClass)

  def toBlocks(
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
    val (sparse, why) = BlockFormat.choose(input.sparkContext, scans.map(_.nonZero).sum, n, dim)
    log.info(s"paws: ${if (sparse) "sparse" else "dense"} blocks: $why")
    val firstRows = starts.init
    val format = if (sparse) "sparse" else "dense"
    val name = s"paws blocks ($n rows x $dim, float32, $format)"
    val built = if (sparse) {
      val rows = input.mapPartitionsWithIndex { (p, it) =>
        var g = firstRows(p)
        val end = g + counts(p)
        it.map { lp =>
          if (g >= end) throw inputChanged(p, "had more rows")
          val (js, xs) = nonZeros(lp)
          val row = new IndexedRow(g, xs, lp.label, js, lp.features.size)
          g += 1
          row
        }
      }
      ChunkedRows.buildLabeled(rows, Chunks.all(n), input.getNumPartitions, storageLevel, name,
        g => s"row $g of the input")
    } else {
      // Dense rows go straight into their blocks: a partition's rows are numbered from
      // the scan, so each run of rows inside one chunk is known before it is read (no
      // float[] per row, no sort, no copy: the rows' garbage took a third of the
      // drop-in's conversion).
      val cut = input.mapPartitionsWithIndex((p, it) => denseRuns(p, it, firstRows(p), counts(p), dim))
      ChunkedRows.fromBlocks(cut, Chunks.all(n), input.getNumPartitions, storageLevel, name)
    }
    PreparedBlocks(built.blocks, n, built.dim, format)
  }

  /**
   * Partition `p`'s rows (global rows `first` to `first + count - 1`, as the scan found)
   * as dense float32 blocks, one per run of rows inside one chunk, each filled as it is
   * read. A partition that does not give the scan's rows again fails.
   */
  private def denseRuns(p: Int, it: Iterator[LabeledPoint], first: Long, count: Long, dim: Int): Iterator[RowBlock] = {
    val end = first + count
    new Iterator[RowBlock] {
      private var g = first
      def hasNext: Boolean = g < end || {
        if (it.hasNext) throw inputChanged(p, "had more rows")
        false
      }
      def next(): RowBlock = {
        if (!hasNext) throw new NoSuchElementException("no more blocks")
        val runEnd = math.min(end, Chunks.nextStart(g))
        val n = (runEnd - g).toInt
        val flat = new Array[Float](n * dim)
        val labels = new Array[Double](n)
        var r = 0
        while (r < n) {
          if (!it.hasNext) throw inputChanged(p, "had fewer rows")
          val lp = it.next()
          if (lp.features.size != dim) throw inputChanged(p, s"gave row ${g + r} another number of features")
          val at = r * dim
          lp.features match {
            case d: DenseVector => RowValues.toFloats(d.values, flat, at)
            case other => other.foreachActive((j, v) => flat(at + j) = v.toFloat)
          }
          labels(r) = lp.label
          r += 1
        }
        val block = new RowBlock(g, dim, flat, labels)
        g = runEnd
        block
      }
    }
  }

  /** Partition `p` of the input gave other rows than the scan read (`what` it did). */
  private def inputChanged(p: Int, what: String) = new IllegalStateException(s"paws: partition $p of the " +
    s"input $what between two reads: the input RDD must be deterministic (cache it, or fix its order)")

  /** A row's non-zero features in float32: (ascending indices, values). */
  private def nonZeros(lp: LabeledPoint): (Array[Int], Array[Float]) = {
    val (js, vs) = lp.features match {
      case d: DenseVector => (null, d.values)
      case s: SparseVector => (s.indices, s.values)
    }
    var n = 0
    var k = 0
    while (k < vs.length) {
      if (vs(k).toFloat != 0f) n += 1
      k += 1
    }
    val outJ = new Array[Int](n)
    val outX = new Array[Float](n)
    var at = 0
    k = 0
    while (k < vs.length) {
      val x = vs(k).toFloat
      if (x != 0f) {
        outJ(at) = if (js == null) k else js(k)
        outX(at) = x
        at += 1
      }
      k += 1
    }
    (outJ, outX)
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
      val values = new RowValues.Counts
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
        lp.features match {
          case d: DenseVector => values.addDense(row, d.values)
          case other => other.foreachActive((_, v) => values.add(row, v))
        }
        count += 1
      }
      Iterator.single(PartitionScan(p, count, dim, mismatchRow, mismatchSize, bad, badLabel,
        badRow, values.nonFinite, values.firstNonFiniteRow, values.firstNonFiniteValue, values.inexact,
        values.nonZero))
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

}
