package dev.paws.spark

import dev.paws.spark.jni.NativeKernels
import org.apache.spark.Partitioner
import org.apache.spark.rdd.RDD
import org.apache.spark.storage.StorageLevel

/**
 * One row of the dataset: its global index, float32 features and label. A sparse row
 * (`indices` not null) holds only its non-zero features: `features(k)` is feature
 * `indices(k)`, ascending, of `size` features.
 */
private[spark] final class IndexedRow(
    val index: Long,
    val features: Array[Float],
    val label: Double,
    val indices: Array[Int] = null,
    sparseSize: Int = -1)
  extends Serializable {

  def isSparse: Boolean = indices != null

  /** The number of features. */
  def size: Int = if (isSparse) sparseSize else features.length
}

/**
 * The block builder: rows keyed by their global index (`0 until n`, each once) as cached
 * [[RowBlock]]s of whole `CHUNK_ROWS` chunks, so a kernel over a model's rows sums
 * exactly what the in-process engine sums. `PetBreedExperiment`'s data and the drop-ins'
 * `RDD[LabeledPoint]` both become blocks here.
 *
 * The blocks are built where the rows are read: each input partition sorts its rows
 * and cuts them into chunks. A chunk whose rows all lie in one partition (nearly all of
 * them when partitions hold long runs of rows, as Parquet splits do) becomes a block
 * right there; only the pieces of chunks that straddle partitions go through a shuffle
 * (at most two per run of rows) and are joined in row order. The cached blocks keep the
 * input's partitions, unless those do not spread the rows about evenly over `wanted`
 * partitions: then every block goes through the shuffle, consecutive chunks together,
 * so a file of one row group (one split) still keeps every core busy.
 */
private[spark] object ChunkedRows {
  private val C = NativeKernels.CHUNK_ROWS.toLong

  /** The cached blocks and their feature count. */
  final case class Built(blocks: RDD[RowBlock], dim: Int, layout: String)

  /** Rows of two partitions have different feature counts (found on the driver). */
  final case class DimMismatch(row: Long, found: Int, firstRow: Long, expected: Int)
    extends IllegalArgumentException(
      s"paws: row $row has $found features, row $firstRow has $expected: all rows must have the same number")

  object DimMismatch {
    /** The [[DimMismatch]] an exception is or was caused by (a task's arrives as a cause). */
    object Within {
      def unapply(e: Throwable): Option[DimMismatch] =
        Iterator.iterate(e)(_.getCause).takeWhile(_ != null).collectFirst { case d: DimMismatch => d }
    }
  }

  /**
   * @param rows the rows, any partitioning, any order within a partition: those of
   *     `chunks` (`Chunks.all(n)` for indices `0 until n`), each once
   * @param name the cached RDD's name
   * @param describe names a row in errors raised inside tasks (it travels with them)
   */
  def build(
      rows: RDD[(Long, Array[Float])],
      chunks: Chunks,
      wanted: Int,
      level: StorageLevel,
      name: String,
      describe: Long => String): Built =
    buildLabeled(rows.map { case (g, x) => new IndexedRow(g, x, 0.0) }, chunks, wanted, level, name, describe)

  /** [[build]] for rows with labels (the blocks carry them). */
  def buildLabeled(
      rows: RDD[IndexedRow],
      chunks: Chunks,
      wanted: Int,
      level: StorageLevel,
      name: String,
      describe: Long => String): Built =
    fromBlocks(rows.mapPartitions(it => cutIntoChunks(it, chunks, describe)), chunks, wanted, level, name)

  /**
   * [[build]] for rows already cut into blocks, each inside one of `chunks` (a chunk may
   * be in pieces across partitions).
   */
  def fromBlocks(cut: RDD[RowBlock], chunks: Chunks, wanted: Int, level: StorageLevel, name: String): Built = {
    val inParts = cut.getNumPartitions
    // The cut rows are read twice (their sizes, then the blocks): keep them until the
    // blocks are cached, so the input is read and decoded once.
    val staging = cut.setName(s"$name (staging)").persist(level)
    val (blocks, layout) = try {
      val sizes = staging.mapPartitions(it => Iterator.single(it.map(_.numRows.toLong).sum)).collect()
      if (isFair(sizes, chunks, wanted)) {
        val whole = staging.filter(b => b.numRows == chunks.length(b.chunk))
        val pieces = staging.filter(b => b.numRows != chunks.length(b.chunk))
        (whole.zipPartitions(merged(pieces, chunks, inParts))((a, b) => a ++ b),
          s"kept in the $inParts input partitions")
      } else {
        val parts = math.max(inParts, wanted)
        (merged(staging, chunks, parts),
          s"spread over $parts partitions (input partitions hold ${sizes.mkString(", ")} rows)")
      }
    } catch {
      case e: Throwable =>
        staging.unpersist(blocking = false)
        throw e
    }
    try cached(blocks, chunks, level, name, layout) finally staging.unpersist(blocking = true)
  }

  /**
   * Whether partitions of `sizes` rows spread the rows of `chunks` about evenly over
   * `wanted` partitions (a Parquet file of one row group is one split, for one, and does not).
   */
  def isFair(sizes: Seq[Long], chunks: Chunks, wanted: Int): Boolean =
    sizes.max <= math.ceil(chunks.rows.toDouble / math.min(wanted.toLong, chunks.count)) * 1.25 + C

  /**
   * Caches `blocks` (every chunk of `chunks` whole in one block, nothing else) and checks
   * them: all their rows there, one dimension.
   */
  def cached(blocks: RDD[RowBlock], chunks: Chunks, level: StorageLevel, name: String, layout: String): Built = {
    blocks.setName(name).persist(level)
    try {
      // Materialises the cache; per partition: rows, and (first row, dim) of each dimension seen.
      val stats = blocks.mapPartitions { it =>
        var count = 0L
        val dims = scala.collection.mutable.Map.empty[Int, Long]
        it.foreach { b =>
          count += b.numRows
          if (dims.get(b.dim).forall(_ > b.firstRow)) dims(b.dim) = b.firstRow
        }
        Iterator.single((count, dims.toMap))
      }.collect()
      val total = stats.map(_._1).sum
      if (total != chunks.rows) {
        throw new IllegalStateException(s"paws: the blocks hold $total rows, the input has ${chunks.describe}: " +
          "is the input deterministic?")
      }
      val firsts = stats.flatMap(_._2).groupBy(_._1).map { case (d, rs) => d -> rs.map(_._2).min }
      val (dim, first) = firsts.minBy(_._2)
      firsts.find(_._1 != dim).foreach { case (d, row) => throw DimMismatch(row, d, first, dim) }
      Built(blocks, dim, layout)
    } catch {
      case e: Throwable =>
        blocks.unpersist(blocking = false)
        throw e
    }
  }

  /**
   * One partition's rows as blocks: sorted by index, cut at chunk boundaries and gaps.
   * Labels are the rows' own (zero for the experiment, whose selections carry them).
   */
  private def cutIntoChunks(
      it: Iterator[IndexedRow],
      chunks: Chunks,
      describe: Long => String): Iterator[RowBlock] = {
    val rows = it.toArray
    java.util.Arrays.sort(rows, Ordering.by[IndexedRow, Long](_.index))
    if (rows.isEmpty) return Iterator.empty
    val dim = rows(0).size
    val sparse = rows(0).isSparse
    var i = 0
    while (i < rows.length) {
      val g = rows(i).index
      require(rows(i).isSparse == sparse, "paws: dense and sparse rows in one input")
      if (!chunks.containsRow(g)) {
        val read = if (chunks.isAll) s"0..${chunks.n - 1}" else s"the rows read (${chunks.describe})"
        throw new IllegalStateException(s"paws: row index $g outside $read")
      }
      if (i > 0 && rows(i - 1).index == g) {
        throw new IllegalStateException(s"paws: ${describe(g)} was read twice: is the input deterministic?")
      }
      if (rows(i).size != dim) {
        throw new IllegalArgumentException(s"${describe(g)} has ${rows(i).size} features, " +
          s"${describe(rows(0).index)} has $dim: all rows must have the same number")
      }
      i += 1
    }
    val out = scala.collection.mutable.ArrayBuffer.empty[RowBlock]
    var start = 0
    while (start < rows.length) {
      // The run of consecutive rows from `start` inside one chunk.
      val chunkEnd = Chunks.nextStart(rows(start).index)
      var end = start + 1
      while (end < rows.length && rows(end).index == rows(end - 1).index + 1 && rows(end).index < chunkEnd) {
        end += 1
      }
      val first = rows(start).index
      val labels = new Array[Double](end - start)
      if (sparse) {
        val run = rows.slice(start, end)
        for (k <- start until end) labels(k - start) = rows(k).label
        out += RowBlock.sparse(first, dim, SparseRows.build(dim, run.map(r => (r.indices, r.features)).toSeq),
          labels)
        for (k <- start until end) rows(k) = null // the block is the only copy kept
      } else {
        val flat = new Array[Float]((end - start) * dim)
        var k = start
        while (k < end) {
          System.arraycopy(rows(k).features, 0, flat, (k - start) * dim, dim)
          labels(k - start) = rows(k).label
          rows(k) = null // the copy is the only one kept
          k += 1
        }
        out += new RowBlock(first, dim, flat, labels)
      }
      start = end
    }
    out.iterator
  }

  /** Blocks and pieces joined per chunk, chunks spread over `parts` partitions in order. */
  private def merged(blocks: RDD[RowBlock], chunks: Chunks, parts: Int): RDD[RowBlock] =
    blocks.map(b => (b.chunk, b))
      .groupByKey(new ChunkRanges(chunks, parts))
      .mapPartitions({ it =>
        it.toArray.sortBy(_._1).iterator.map { case (c, ps) =>
          val sorted = ps.toArray.sortBy(_.firstRow)
          val joined = sorted.reduceLeft { (a, b) =>
            if (b.dim != a.dim) throw DimMismatch(b.firstRow, b.dim, a.firstRow, a.dim)
            if (b.firstRow != a.firstRow + a.numRows) {
              throw new IllegalStateException(s"paws: chunk $c: rows ${a.firstRow + a.numRows}.." +
                s"${b.firstRow - 1} are missing or duplicated: is the input deterministic?")
            }
            a.append(b)
          }
          val len = chunks.length(c)
          if (joined.firstRow != c * C || joined.numRows != len) {
            throw new IllegalStateException(s"paws: chunk $c holds rows ${joined.firstRow}.." +
              s"${joined.firstRow + joined.numRows - 1}, expected ${c * C}..${c * C + len - 1}: " +
              "is the input deterministic?")
          }
          joined
        }
      }, preservesPartitioning = true)

  /** Consecutive ranges of the kept chunks per partition, about as many in each. */
  private final class ChunkRanges(chunks: Chunks, parts: Int) extends Partitioner {
    override def numPartitions: Int = parts
    override def getPartition(key: Any): Int = (chunks.rank(key.asInstanceOf[Long]) * parts / chunks.count).toInt
  }
}
