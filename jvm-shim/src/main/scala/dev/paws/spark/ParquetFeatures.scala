package dev.paws.spark

import dev.paws.spark.jni.{NativeKernels, NativeParquet}

import scala.collection.JavaConverters._

import com.fasterxml.jackson.databind.{JsonNode, ObjectMapper}
import org.apache.hadoop.fs.{FileStatus, FileSystem, FSDataInputStream, Path => HPath}
import org.apache.spark.{SerializableWritable, SparkContext, TaskContext}
import org.apache.spark.rdd.RDD

/**
 * A features Parquet file (or a folder of part files) read with paws-core's Parquet
 * reader through Hadoop's `FileSystem`, without Spark SQL: planning a Spark SQL scan in
 * a fresh JVM cost about 6 s of a 10 s run, reading and decoding the bytes well under
 * one.
 *
 * The driver lists the files, reads each footer (the row groups and where their columns
 * lie) and the small `image`/`label` columns. The row groups are then cut into
 * contiguous runs of about equal rows, one task each (preferring the hosts that hold
 * them); a task fetches only its row groups' `features` bytes (positioned reads, so
 * `s3a://` fetches ranges) and hands them to the native decoder, which checks them as
 * `paws experiment` does. The rows come out as [[RowBlock]]s cut at chunk boundaries.
 */
private[spark] object ParquetFeatures {
  private val log = org.slf4j.LoggerFactory.getLogger(getClass)
  private val C = NativeKernels.CHUNK_ROWS.toLong
  /** The bytes read from a file's end at first: the footer of a features file fits. */
  private val TailRead = 64 * 1024

  /** One row group of one file, and the row it starts at in the whole dataset. */
  final case class Group(
      path: String,
      fileLen: Long,
      footer: Array[Byte],
      index: Int,
      firstRow: Long,
      rows: Long,
      features: Array[(Long, Long)])

  /** What the driver read: every row's image and label, and the row groups. */
  final case class Plan(
      images: Array[String],
      labels: Array[String],
      groups: Array[Group],
      model: Option[String],
      /** (file, declared dimension) of files that record one */
      declaredDims: Seq[(String, String)],
      /** (file, its first row in the dataset) of files with rows, in order */
      fileStarts: Seq[(String, Long)],
      /** The listed files by path, for their block locations */
      statuses: Map[String, FileStatus]) {

    /** Row `g` of the dataset named as a user finds it: its file, row in the file, image. */
    def describe(g: Long): String = {
      val (file, start) = fileStarts.takeWhile(_._2 <= g).last
      s"$file: column 'features': row ${g - start} (image ${images(g.toInt)})"
    }
  }

  /**
   * The blocks of [[blocks]]: `sizes` rows per partition; `aligned` when every partition
   * starts on a chunk boundary (then no chunk straddles two of them); `byWork` when the
   * partitions were cut for about equal work (their rows may differ).
   */
  final case class Read(blocks: RDD[RowBlock], sizes: Seq[Long], aligned: Boolean, byWork: Boolean)

  private def bad(msg: String) = new IllegalArgumentException(msg)

  /** `path` itself, or a folder's visible `*.parquet` files in name order, as the CLI. */
  def files(fs: FileSystem, path: HPath): Array[FileStatus] = {
    val st = fs.getFileStatus(path)
    if (st.isFile) return Array(st)
    val parts = fs.listStatus(path).filter { s =>
      val name = s.getPath.getName
      s.isFile && name.endsWith(".parquet") && !name.startsWith(".") && !name.startsWith("_")
    }.sortBy(_.getPath.getName)
    if (parts.isEmpty) throw bad(s"$path: column 'features': the folder has no .parquet files")
    parts
  }

  /** The driver's part: footers and index columns of every file. */
  def plan(fs: FileSystem, path: String): Plan = {
    val mapper = new ObjectMapper()
    val images = Array.newBuilder[String]
    val labels = Array.newBuilder[String]
    val groups = Array.newBuilder[Group]
    var models = Vector.empty[(String, Option[String])]
    var dims = Vector.empty[(String, String)]
    var firstRows = Vector.empty[(String, Long)]
    var row = 0L
    val listed = files(fs, new HPath(path))
    for (st <- listed) {
      val file = st.getPath.toString
      val len = st.getLen
      // One open file for the footer and the index columns.
      val in = fs.open(st.getPath)
      try {
        val footer = readFooter(in, file, len)
        val layout = mapper.readTree(NativeParquet.layout(file, len, footer))
        val rgs = layout.get("row_groups").elements().asScala.toArray
        val fileRows = rgs.map(_.get("rows").asLong).sum
        if (fileRows > 0) {
          models :+= file -> text(layout, "model")
          firstRows :+= file -> row
          text(layout, "dim").foreach(d => dims :+= file -> d)
          val (starts, pieces) = fetch(in, file, rgs.flatMap(g => ranges(g.get("index"))))
          val index = mapper.readTree(NativeParquet.index(file, len, footer, starts, pieces))
          index.get("images").elements().asScala.foreach(i => images += i.asText())
          index.get("labels").elements().asScala.foreach(l => labels += l.asText())
          rgs.zipWithIndex.foreach { case (g, i) =>
            val rows = g.get("rows").asLong
            if (rows > 0) groups += Group(file, len, footer, i, row, rows, ranges(g.get("features")))
            row += rows
          }
        }
      } finally in.close()
    }
    if (row == 0) throw bad(s"$path: column 'features': the file has no rows")
    val model = models.head._2
    models.find(_._2 != model).foreach { case (f, m) =>
      throw bad(s"$f: column 'features': extractor ${m.getOrElse("unknown")} differs from " +
        s"${models.head._1}'s ${model.getOrElse("unknown")}")
    }
    val (im, lb) = (images.result(), labels.result())
    if (im.length != row) throw new IllegalStateException(s"$path: $row rows but ${im.length} images")
    Plan(im, lb, groups.result(), model, dims, firstRows, listed.map(st => st.getPath.toString -> st).toMap)
  }

  private def text(n: JsonNode, key: String): Option[String] =
    Option(n.get(key)).filterNot(_.isNull).map(_.asText())

  private def ranges(n: JsonNode): Array[(Long, Long)] =
    n.elements().asScala.map(r => (r.get(0).asLong, r.get(1).asLong)).toArray

  /** The footer (without the 8-byte tail), in one read when it is under 64 KiB. */
  private def readFooter(in: FSDataInputStream, file: String, len: Long): Array[Byte] = {
    if (len < NativeParquet.TAIL_LEN) {
      throw bad(s"$file: not a Parquet file: $len bytes")
    }
    val first = math.min(len, TailRead.toLong).toInt
    val end = new Array[Byte](first)
    in.readFully(len - first, end)
    val n = NativeParquet.footerLength(file, len, end.takeRight(NativeParquet.TAIL_LEN))
    if (n + NativeParquet.TAIL_LEN <= first) {
      end.slice(first - NativeParquet.TAIL_LEN - n, first - NativeParquet.TAIL_LEN)
    } else {
      val footer = new Array[Byte](n)
      in.readFully(len - NativeParquet.TAIL_LEN - n, footer)
      footer
    }
  }

  /** The byte ranges of an open file, each read whole (positioned reads). */
  private def fetch(in: FSDataInputStream, file: String, ranges: Array[(Long, Long)]): (Array[Long], Array[Array[Byte]]) = {
    val pieces = ranges.map { case (start, len) =>
      if (len > Int.MaxValue - 16) throw bad(s"$file: a column chunk of $len bytes is too large to read")
      val b = new Array[Byte](len.toInt)
      in.readFully(start, b)
      b
    }
    (ranges.map(_._1), pieces)
  }

  /**
   * The row groups holding rows of `chunks` (the others are not read) as an RDD of blocks
   * in at most `wanted` partitions, each a contiguous run of the kept chunks of about
   * equal work ([[Chunks.work]]): the barrier driver's tasks each run every iteration
   * over their chunks and wait for the slowest one. A partition reads the row groups that
   * hold its chunks (a group holding chunks of two runs is read by both tasks) and keeps
   * its chunks whole.
   *
   * Cut by rows at row-group boundaries (how this read before), W1's 29 chunks went 16
   * and 13 to two tasks in 1,024-row groups, and one breed against four others put the
   * breed that every model trains on with another: its task's kernel took 0.47-0.51 s
   * against 0.18-0.23 s for the other's. Where runs are much smaller than row groups (a
   * few large groups, many tasks), a group would be read by many tasks: then groups are
   * not shared, each goes whole to one run, and the caller spreads the chunks with a
   * shuffle when that is uneven.
   */
  def blocks(sc: SparkContext, fs: FileSystem, plan: Plan, chunks: Chunks, wanted: Int): Read = {
    def kept(g: Group) = chunks.rowsIn(g.firstRow, g.firstRow + g.rows)
    val groups = plan.groups.filter(kept(_) > 0)
    val balanced = byWork(groups, chunks, wanted)
    val runs = balanced.getOrElse(byGroup(groups, chunks, wanted))
    balanced.foreach(rs => log.info(s"paws: ${rs.size} partitions of about equal training work: " +
      rs.map(r => s"chunks ${r.firstChunk}-${r.lastChunk} (${r.work} row margins an iteration)").mkString(", ")))
    val withHosts = runs.map(r => r -> hosts(fs, plan.statuses(r.groups.head.path), r.groups.head))
    val conf = sc.broadcast(new SerializableWritable(sc.hadoopConfiguration))
    val rdd = sc.makeRDD(withHosts).mapPartitions { it =>
      // A file is opened once per task, however many of its row groups the task reads.
      val open = scala.collection.mutable.Map.empty[String, FSDataInputStream]
      TaskContext.get().addTaskCompletionListener[Unit](_ => open.values.foreach(_.close()))
      it.flatMap { run =>
        val fs = new HPath(run.groups.head.path).getFileSystem(conf.value.value)
        def in(g: Group) = open.getOrElseUpdate(g.path, fs.open(new HPath(g.path)))
        joinChunks(run.groups.iterator.flatMap(g => cut(readGroup(in(g), g), g, chunks, run)))
      }
    }
    Read(rdd, runs.map(_.rows), runs.forall(_.aligned), balanced.isDefined)
  }

  /**
   * One partition's read: the row groups `groups`, of which it keeps the rows of the kept
   * chunks `firstChunk..lastChunk` (`rows` of them, `work` as [[Chunks.work]] sums it, 0
   * when not cut by work); `aligned` when those chunks are whole in it.
   */
  private[spark] final case class Run(groups: Seq[Group], firstChunk: Long, lastChunk: Long, rows: Long,
      work: Long, aligned: Boolean) {
    def keeps(chunk: Long): Boolean = chunk >= firstChunk && chunk <= lastChunk
  }

  /**
   * Runs of about equal work, cut between chunks; None when a row group would be read by
   * more than two runs.
   */
  private[spark] def byWork(groups: Seq[Group], chunks: Chunks, wanted: Int): Option[Seq[Run]] = {
    val ids = groups.iterator.flatMap(g => keptStarts(g, chunks).map(_ / C)).toArray.distinct
    if (ids.isEmpty) return None
    val work = ids.map(chunks.work)
    val parts = math.max(1, math.min(wanted, ids.length))
    // Chunk i goes to the part that the middle of its work falls in, for work spread
    // evenly (by where its work starts, a heavy last chunk would join all the others).
    val before = work.scanLeft(0L)(_ + _)
    val ranges = ids.indices.groupBy(i => (BigInt(2 * before(i) + work(i)) * parts / (2 * before.last)).toInt)
      .toSeq.sortBy(_._1)
      .map { case (_, is) => (ids(is.min), ids(is.max), is.map(work(_)).sum) }
    val runs = ranges.map { case (lo, hi, w) =>
      Run(groups.filter(g => g.firstRow < (hi + 1) * C && g.firstRow + g.rows > lo * C), lo, hi,
        chunks.rowsIn(lo * C, (hi + 1) * C), w, aligned = true)
    }
    val readers = groups.map(g => runs.count(_.groups.contains(g)))
    if (readers.max > 2) None else Some(runs)
  }

  /**
   * Runs of whole row groups, of about equal kept rows (a group goes to the run its
   * first kept row falls in); `aligned` when a run's first group starts on a chunk.
   */
  private def byGroup(groups: Seq[Group], chunks: Chunks, wanted: Int): Seq[Run] = {
    def kept(g: Group) = chunks.rowsIn(g.firstRow, g.firstRow + g.rows)
    val parts = math.max(1, math.min(wanted, groups.length))
    val before = groups.scanLeft(0L)(_ + kept(_))
    groups.indices.groupBy(i => (before(i) * parts / chunks.rows).toInt).toSeq.sortBy(_._1)
      .map(_._2.map(groups(_)))
      .map { gs =>
        val starts = gs.iterator.flatMap(keptStarts(_, chunks))
        val first = starts.next()
        Run(gs, first / C, Long.MaxValue, gs.map(kept).sum, 0L, aligned = first % C == 0)
      }
  }

  /** Hosts holding the start of a group's features (none for object stores and local files). */
  private def hosts(fs: FileSystem, st: FileStatus, g: Group): Seq[String] = {
    val (start, len) = g.features.headOption.getOrElse((0L, 0L))
    Option(fs.getFileBlockLocations(st, start, math.max(len, 1L))).toSeq.flatten
      .flatMap(_.getHosts).filter(_ != "localhost").distinct
  }

  private def readGroup(in: FSDataInputStream, g: Group): Array[Float] = {
    val (starts, pieces) = fetch(in, g.path, g.features)
    val x = NativeParquet.features(g.path, g.fileLen, g.footer, g.index, starts, pieces)
    if (x.length % g.rows != 0) {
      throw new IllegalStateException(s"${g.path}: row group ${g.index}: ${x.length} values for ${g.rows} rows")
    }
    x
  }

  /** Where a group's pieces of kept chunks start (a group may start inside a chunk). */
  private def keptStarts(g: Group, chunks: Chunks): Iterator[Long] =
    Iterator.iterate(g.firstRow)(Chunks.nextStart).takeWhile(_ < g.firstRow + g.rows)
      .filter(s => chunks.contains(s / C))

  /**
   * A group's rows (row-major) in the kept chunks that `run` keeps, as blocks cut at the
   * dataset's chunk boundaries.
   */
  private def cut(x: Array[Float], g: Group, chunks: Chunks, run: Run): Iterator[RowBlock] = {
    val dim = (x.length / g.rows).toInt
    if (dim == 0) throw bad(s"${g.path}: column 'features': row group ${g.index}: rows have no values")
    val end = g.firstRow + g.rows
    keptStarts(g, chunks).filter(s => run.keeps(s / C)).map { s =>
      val e = math.min(Chunks.nextStart(s), end)
      val rows = java.util.Arrays.copyOfRange(x, ((s - g.firstRow) * dim).toInt, ((e - g.firstRow) * dim).toInt)
      new RowBlock(s, dim, rows, new Array[Double]((e - s).toInt))
    }
  }

  /** Consecutive blocks of the same chunk joined into one. */
  private def joinChunks(blocks: Iterator[RowBlock]): Iterator[RowBlock] = new Iterator[RowBlock] {
    private val in = blocks.buffered
    override def hasNext: Boolean = in.hasNext
    override def next(): RowBlock = {
      var b = in.next()
      while (in.hasNext && in.head.chunk == b.chunk && in.head.dim == b.dim &&
          in.head.firstRow == b.firstRow + b.numRows) {
        b = b.append(in.next())
      }
      b
    }
  }
}
