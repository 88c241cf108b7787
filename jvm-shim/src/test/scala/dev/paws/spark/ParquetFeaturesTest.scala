package dev.paws.spark

import dev.paws.spark.jni.NativeKernels
import java.nio.file.{Files, Path => JPath, Paths}

import org.apache.spark.sql.{DataFrame, Row, SparkSession}
import org.apache.spark.sql.functions.col
import org.apache.spark.sql.types._
import org.apache.spark.storage.StorageLevel
import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.Test

/**
 * `ExperimentData.parquet` (paws-core's reader through Hadoop's FileSystem, no Spark
 * SQL) against Spark SQL's own Parquet reader as the oracle: the same rows, in the
 * same order, for paws' file and for Spark's part files cut anywhere; bad files are
 * named errors.
 */
class ParquetFeaturesTest {
  private lazy val spark: SparkSession = {
    TestSpark.sc
    SparkSession.builder().getOrCreate()
  }

  private val sample: JPath = TestCli.repo.resolve("examples/oxford-pets-sample/features.parquet")

  private def tempDir(name: String): JPath = {
    val base = Paths.get(System.getProperty("java.io.tmpdir"))
    Files.createDirectories(base)
    Files.createTempDirectory(base, s"paws-$name-")
  }

  /** Rows in order (file name, then row in file), by Spark SQL. */
  private def oracle(path: String): Array[Row] = {
    val df = spark.read.parquet(path)
    df.select(col("_metadata.file_name"), col("_metadata.row_index"), col("image"), col("label"),
      col("features")).collect().sortBy(r => (r.getString(0), r.getLong(1)))
  }

  private val C = NativeKernels.CHUNK_ROWS.toLong

  /**
   * The cached blocks' values in row order, checked: each block a whole chunk, the
   * chunks those of `rowsRead` (in order), each once.
   */
  private def flat(d: ExperimentData, rowsRead: Seq[Long]): Array[Float] = {
    val blocks = d.blocks.collect().sortBy(_.firstRow)
    assertEquals(rowsRead.map(_ / C).distinct, blocks.map(_.firstRow / C).toSeq, "the chosen chunks, each once")
    blocks.foreach { b =>
      assertEquals(0L, b.firstRow % C, s"$b starts a chunk")
      assertTrue(b.numRows == C || b.firstRow + b.numRows == d.numRows, s"$b is a whole chunk")
    }
    assertEquals(rowsRead.length.toLong, blocks.map(_.numRows.toLong).sum)
    blocks.flatMap(_.rows)
  }

  /** Reads `path` (the chunks `keep` picks, or all) and checks it against Spark SQL's rows. */
  private def assertSameAsOracle(path: String, keep: Option[Set[Long]] = None): ExperimentData = {
    val choose: ExperimentData.ChooseChunks = (images, _) => keep match {
      case None => Chunks.all(images.length.toLong)
      case Some(cs) => Chunks.holding(images.length.toLong, images.indices.iterator.map(_.toLong).filter(g => cs(g / C)))
    }
    val d = ExperimentData.parquet(spark, path, StorageLevel.MEMORY_ONLY, choose)
    try {
      val rows = oracle(path)
      assertArrayEquals(rows.map(_.getString(2)).asInstanceOf[Array[Object]], d.images.asInstanceOf[Array[Object]])
      assertArrayEquals(rows.map(_.getString(3)).asInstanceOf[Array[Object]], d.breeds.asInstanceOf[Array[Object]])
      val read = rows.indices.map(_.toLong).filter(g => keep.forall(_(g / C)))
      assertEquals(read.length.toLong, d.chunks.rows)
      assertArrayEquals(read.toArray.flatMap(g => rows(g.toInt).getSeq[Float](4)), flat(d, read))
      assertEquals(rows.head.getSeq[Float](4).length, d.dim)
      d
    } finally d.blocks.unpersist(blocking = true)
  }

  private def sampleDf: DataFrame = spark.read.parquet(sample.toUri.toString)

  @Test
  def pawsFileReadsAsSparkReadsIt(): Unit = {
    val d = assertSameAsOracle(sample.toUri.toString)
    assertEquals("efficientnet-lite0-imagenet", d.extractor)
  }

  @Test
  def sparkPartFilesCutAnywhereReadAsSparkReadsThem(): Unit = {
    // Parts of 77 rows and an empty part: no part starts on a chunk boundary but the first,
    // so chunks straddle partitions and go through the join.
    val out = tempDir("parts").resolve("features.parquet").toString
    sampleDf.repartition(1).write.option("maxRecordsPerFile", 77).parquet(out)
    val empty = sampleDf.limit(0)
    empty.write.mode("append").parquet(out)
    val d = assertSameAsOracle(out)
    assertTrue(d.inputPartitions >= 1)
  }

  @Test
  def onlyTheChosenChunksAreReadAndCached(): Unit = {
    // The sample's 600 rows are chunks 0, 1 and 2; a sweep of a few breeds reads some of
    // them: in paws' file, and in part files whose chunks straddle partitions.
    val parts = tempDir("chosen").resolve("features.parquet").toString
    sampleDf.repartition(1).write.option("maxRecordsPerFile", 77).parquet(parts)
    for (path <- Seq(sample.toUri.toString, parts); keep <- Seq(Set(0L, 2L), Set(1L), Set(2L))) {
      val d = assertSameAsOracle(path, Some(keep))
      assertFalse(d.chunks.isAll, s"$path, chunks $keep: ${d.chunks.describe}")
    }
  }

  @Test
  def chunksAreSpreadOverTasksByTheirTrainingWork(): Unit = {
    // The sample's one row group holds chunks 0, 1 and 2 (256, 256 and 88 rows): both
    // tasks read it and each keeps its chunks. By rows, chunk 0 goes alone (256 against
    // 344 rows); so it does when models train on it, and chunk 2 goes alone when they
    // train there.
    def parts(trainedBy: Seq[Array[Long]]): Seq[Seq[Long]] = {
      val choose: ExperimentData.ChooseChunks = (images, _) =>
        Chunks.holding(images.length.toLong, images.indices.iterator.map(_.toLong), trainedBy)
      val d = ExperimentData.parquet(spark, sample.toUri.toString, StorageLevel.MEMORY_ONLY, choose)
      try {
        assertTrue(d.blockLayout.contains("about equal training work"), d.blockLayout)
        val c = C // not the test instance, which tasks cannot take
        d.blocks.mapPartitions(it => Iterator(it.map(_.firstRow / c).toList)).collect().toSeq
      } finally d.blocks.unpersist(blocking = true)
    }
    assertEquals(Seq(Seq(0L), Seq(1L, 2L)), parts(Nil))
    // Eight models train on all of chunk 0's rows.
    assertEquals(Seq(Seq(0L), Seq(1L, 2L)), parts(Seq.fill(8)(Array.range(0, 256).map(_.toLong))))
    // Three models train on all of chunk 2's rows.
    assertEquals(Seq(Seq(0L, 1L), Seq(2L)), parts(Seq.fill(3)(Array.range(512, 600).map(_.toLong))))
  }

  @Test
  def badFilesAreNamedErrors(): Unit = {
    val dir = tempDir("bad")
    val schema = StructType(Seq(
      StructField("image", StringType, nullable = false),
      StructField("label", StringType, nullable = false),
      StructField("features", ArrayType(FloatType, containsNull = true), nullable = true)))
    def write(name: String, rows: Seq[Row], s: StructType = schema): String = {
      val p = dir.resolve(name).toString
      spark.createDataFrame(spark.sparkContext.parallelize(rows, 1), s).write.parquet(p)
      p
    }
    def fails(path: String, expected: String*): Unit = {
      val e = assertThrows(classOf[Exception], () => ExperimentData.parquet(spark, path, StorageLevel.MEMORY_ONLY))
      val all = Iterator.iterate[Throwable](e)(_.getCause).takeWhile(_ != null).map(_.getMessage).mkString(" / ")
      expected.foreach(x => assertTrue(all.contains(x), s"'$x' in: $all"))
    }
    val ok = Seq.tabulate(5)(i => Row(s"a_$i.jpg", "a", Seq(1f, 2f, i.toFloat)))

    fails(write("nan", ok :+ Row("a_9.jpg", "a", Seq(1f, Float.NaN, 3f))),
      "nan/part-", "row 5, feature index 1", "NaN")
    fails(write("null-value", ok :+ Row("a_9.jpg", "a", Seq(1f, null, 3f))),
      "null-value/part-", "column 'features'", "row 5", "value 1 is null")
    fails(write("null-row", ok :+ Row("a_9.jpg", "a", null)),
      "null-row/part-", "row 5", "features are null")
    fails(write("short", ok :+ Row("a_9.jpg", "a", Seq(1f, 2f))),
      "short/part-", "row 5", "expected 3 values, found 2")
    fails(write("no-label", Seq(Row("a", Seq(1f))),
      StructType(Seq(schema(0), schema(2)))), "no-label/part-", "column 'label'", "missing")
    fails(write("empty", Seq.empty), "empty", "the file has no rows")

    // Two files of different widths: the second file's rows are named.
    val two = dir.resolve("two").toString
    spark.createDataFrame(spark.sparkContext.parallelize(ok, 1), schema).write.parquet(two)
    spark.createDataFrame(spark.sparkContext.parallelize(Seq(Row("b_1.jpg", "b", Seq(1f, 2f))), 1), schema)
      .write.mode("append").parquet(two)
    fails(two, "two/part-", "row 0 (image b_1.jpg) has 2", "(image a_0.jpg) has 3",
      "all rows must have the same number")

    // A truncated file and a file that is not Parquet.
    val good = Files.list(Paths.get(write("cut", ok))).filter(_.toString.endsWith(".parquet")).findFirst().get
    val bytes = Files.readAllBytes(good)
    Files.write(good, java.util.Arrays.copyOf(bytes, bytes.length / 2))
    fails(good.toString, good.getFileName.toString)
    val junk = dir.resolve("junk.parquet")
    Files.write(junk, "not parquet at all".getBytes("UTF-8"))
    fails(junk.toString, "junk.parquet", "Corrupt footer")
    fails(dir.resolve("nothing-here").toString, "nothing-here")
    val noParts = Files.createDirectories(dir.resolve("no-parts"))
    Files.write(noParts.resolve("_SUCCESS"), Array.emptyByteArray)
    fails(noParts.toString, "no-parts", "the folder has no .parquet files")

    // Extractor metadata that differs between files.
    val mixed = dir.resolve("mixed").toString
    val withMeta = sampleDf.limit(3)
    withMeta.write.parquet(mixed)
    withMeta.select(col("image"), col("label"),
      col("features").as("features", new MetadataBuilder().putString("paws.extractor.model", "other").build()))
      .write.mode("append").parquet(mixed)
    fails(mixed, "mixed/part-", "column 'features': extractor", "differs from", "other", "unknown")
  }
}
