package dev.paws.spark

import dev.paws.spark.jni.NativeKernels

/**
 * The `CHUNK_ROWS` chunks of an `n`-row dataset that are read and cached: every one, or
 * only those holding a row that some model reads (a sweep of one breed against four
 * others need not read the other 32 breeds' rows). A chunk is kept whole or not at all:
 * the kernels then sum, for every model, exactly the rows the in-process engine sums.
 *
 * @param ids the kept chunks in increasing order, or `None` for all of them
 * @param trained per chunk, (the rows that models train on there, a row as many times as
 *   models train on it; the models that train there), when known: what each iteration
 *   costs there
 */
private[spark] final class Chunks private (val n: Long, ids: Option[Array[Long]],
    trained: Option[Map[Long, (Long, Int)]]) extends Serializable {
  import Chunks.C

  /** Number of kept chunks. */
  val count: Long = ids.map(_.length.toLong).getOrElse(Chunks.in(n))

  /** Number of rows in the kept chunks. */
  val rows: Long = ids.map(_.iterator.map(length(_).toLong).sum).getOrElse(n)

  def isAll: Boolean = ids.isEmpty

  def contains(chunk: Long): Boolean = ids match {
    case None => chunk >= 0 && chunk < count
    case Some(a) => java.util.Arrays.binarySearch(a, chunk) >= 0
  }

  def containsRow(row: Long): Boolean = row >= 0 && row < n && contains(row / C)

  /** Position of a kept chunk among the kept ones (for spreading them over partitions). */
  def rank(chunk: Long): Long = ids match {
    case None => chunk
    case Some(a) => java.util.Arrays.binarySearch(a, chunk).toLong
  }

  /**
   * What an iteration costs in a kept chunk, in rows' margins, to spread the chunks over
   * tasks that each run every iteration over theirs (the barrier driver waits for the
   * slowest one): the chunk's rows (read from memory once a pass), the rows that models
   * train on there, and [[Chunks.PerModel]] for each model that trains there (its exact
   * sum of the chunk's gradient, `dim + 1` numbers); its rows alone when the models are
   * not known. One breed's chunk in a sweep of that breed against four others is trained
   * on by every model, another breed's by a quarter of them.
   */
  def work(chunk: Long): Long = {
    val (rows, models) = trained.flatMap(_.get(chunk)).getOrElse((0L, 0))
    length(chunk) + rows + Chunks.PerModel * models
  }

  /** Rows of chunk `chunk` (the last one may be short). */
  def length(chunk: Long): Int = (math.min((chunk + 1) * C, n) - chunk * C).toInt

  /** Kept rows in `[from, until)`. */
  def rowsIn(from: Long, until: Long): Long = ids match {
    case None => math.max(0L, math.min(until, n) - math.max(from, 0L))
    case Some(a) =>
      a.iterator.map { c => math.max(0L, math.min(until, math.min((c + 1) * C, n)) - math.max(from, c * C)) }.sum
  }

  /** For the log: "all 7349 rows" or "2048 of 7349 rows (8 of 29 chunks of 256)". */
  def describe: String =
    if (isAll) s"all $n rows" else s"$rows of $n rows ($count of ${Chunks.in(n)} chunks of $C)"
}

private[spark] object Chunks {
  private val C = NativeKernels.CHUNK_ROWS.toLong

  /** Chunks of an `n`-row dataset. */
  private def in(n: Long): Long = (n + C - 1) / C

  /** The first row of the chunk after the one that holds row `row`. */
  def nextStart(row: Long): Long = (row / C + 1) * C

  def all(n: Long): Chunks = {
    require(n > 0, "no rows")
    new Chunks(n, None, None)
  }

  /**
   * Rows' margins that a model's share of one chunk costs besides its rows (its exact sum
   * of the chunk's gradient, `dim + 1` fixed-point additions, and the gradient pass's
   * setup), for [[Chunks.work]]: an estimate, not fitted. With it W1's 29 chunks went
   * 14/15 to two tasks, and W2's two tasks' kernels took 0.39–0.45 and 0.30–0.33 s (its
   * two heaviest chunks go to one task: split either way, one task gets more).
   */
  val PerModel = 64

  /**
   * The chunks holding `rows` (indices of an `n`-row dataset); all of them if that is
   * every chunk, or if `rows` is empty (nothing to save, and the dimension is still read).
   * `trainedBy` holds each model's training rows (see [[Chunks.work]]).
   */
  def holding(n: Long, rows: Iterator[Long], trainedBy: Seq[Array[Long]] = Nil): Chunks = {
    require(n > 0, "no rows")
    def chunkOf(r: Long) = {
      require(r >= 0 && r < n, s"row $r outside 0..${n - 1}")
      r / C
    }
    val ids = rows.map(chunkOf).toArray.distinct.sorted
    val counts = scala.collection.mutable.HashMap.empty[Long, (Long, Int)]
    for (model <- trainedBy) {
      model.groupBy(chunkOf).foreach { case (c, rs) =>
        val (r, m) = counts.getOrElse(c, (0L, 0))
        counts(c) = (r + rs.length, m + 1)
      }
    }
    val work = if (counts.isEmpty) None else Some(counts.toMap)
    if (ids.isEmpty || ids.length.toLong == in(n)) new Chunks(n, None, work) else new Chunks(n, Some(ids), work)
  }
}
