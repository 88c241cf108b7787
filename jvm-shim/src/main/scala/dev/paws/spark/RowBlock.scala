package dev.paws.spark

import dev.paws.spark.jni.NativeKernels

/**
 * Rows of one chunk of the global row order, as cached by Spark: row-major float32
 * features, labels, and the global index of the first row (rows are consecutive).
 *
 * A block never holds rows of two chunks, and (once [[ChunkedRows]] has built them)
 * every chunk is whole in one block, so the native gradient sums exactly what the
 * in-process engine sums.
 */
final class RowBlock(
    val firstRow: Long,
    val dim: Int,
    val rows: Array[Float],
    val labels: Array[Double])
  extends Serializable {

  require(dim > 0, s"dim must be positive, got $dim")
  require(rows.length == labels.length.toLong * dim,
    s"block of ${labels.length} rows and dim $dim has ${rows.length} feature values")

  def numRows: Int = labels.length

  /** Index of the chunk the rows lie in. */
  def chunk: Long = firstRow / NativeKernels.CHUNK_ROWS

  /** This block followed by `next`, whose rows must come right after. */
  def append(next: RowBlock): RowBlock = {
    require(next.firstRow == firstRow + numRows && next.dim == dim,
      s"cannot append rows ${next.firstRow}.. to rows $firstRow..${firstRow + numRows - 1}")
    val r = java.util.Arrays.copyOf(rows, rows.length + next.rows.length)
    System.arraycopy(next.rows, 0, r, rows.length, next.rows.length)
    val l = java.util.Arrays.copyOf(labels, labels.length + next.labels.length)
    System.arraycopy(next.labels, 0, l, labels.length, next.labels.length)
    new RowBlock(firstRow, dim, r, l)
  }

  override def toString: String = s"RowBlock(rows $firstRow..${firstRow + numRows - 1}, dim $dim)"
}
