package dev.paws.spark

import dev.paws.spark.jni.NativeKernels

/**
 * Rows of one chunk of the global row order, as cached by Spark: float32 features, dense
 * (row-major) or sparse ([[SparseRows]]), labels, and the global index of the first row
 * (rows are consecutive).
 *
 * A block never holds rows of two chunks, and (once [[ChunkedRows]] has built them)
 * every chunk is whole in one block, so the native gradient sums exactly what the
 * in-process engine sums.
 *
 * @param rows row-major features of a dense block; null for a sparse one
 * @param sparse the non-zero features of a sparse block; null for a dense one
 */
final class RowBlock private (
    val firstRow: Long,
    val dim: Int,
    val rows: Array[Float],
    val labels: Array[Double],
    val sparse: SparseRows)
  extends Serializable {

  /** A dense block. */
  def this(firstRow: Long, dim: Int, rows: Array[Float], labels: Array[Double]) =
    this(firstRow, dim, rows, labels, null)

  require(dim > 0, s"dim must be positive, got $dim")
  require((rows == null) != (sparse == null), "a block is dense or sparse")
  require(rows == null || rows.length == labels.length.toLong * dim,
    s"block of ${labels.length} rows and dim $dim has ${rows.length} feature values")
  require(sparse == null || sparse.numRows == labels.length,
    s"sparse block of ${sparse.numRows} rows has ${labels.length} labels")

  def numRows: Int = labels.length

  def isSparse: Boolean = sparse != null

  /** Index of the chunk the rows lie in. */
  def chunk: Long = firstRow / NativeKernels.CHUNK_ROWS

  /** This block followed by `next`, whose rows must come right after, in the same format. */
  def append(next: RowBlock): RowBlock = {
    require(next.firstRow == firstRow + numRows && next.dim == dim && next.isSparse == isSparse,
      s"cannot append rows ${next.firstRow}.. to rows $firstRow..${firstRow + numRows - 1}")
    val l = java.util.Arrays.copyOf(labels, labels.length + next.labels.length)
    System.arraycopy(next.labels, 0, l, labels.length, next.labels.length)
    if (isSparse) {
      new RowBlock(firstRow, dim, null, l, sparse.append(next.sparse))
    } else {
      val r = java.util.Arrays.copyOf(rows, rows.length + next.rows.length)
      System.arraycopy(next.rows, 0, r, rows.length, next.rows.length)
      new RowBlock(firstRow, dim, r, l)
    }
  }

  override def toString: String =
    s"RowBlock(rows $firstRow..${firstRow + numRows - 1}, dim $dim${if (isSparse) ", sparse" else ""})"
}

object RowBlock {
  /** A sparse block. */
  def sparse(firstRow: Long, dim: Int, rows: SparseRows, labels: Array[Double]): RowBlock =
    new RowBlock(firstRow, dim, null, labels, rows)
}

/**
 * The non-zero float32 features of some rows, in the native kernel's lane layout
 * (`NativeKernels.sweepAccAddSparse`): row r's segment s holds the entries
 * `ptr(5r + s) until ptr(5r + s + 1)` of `indices` and `values`, ascending; segments 0 to 3
 * are the features j with `j % 4 == s` below `dim - dim % 4`, segment 4 the rest. The
 * native kernel sums each segment as the dense kernel sums that lane, so sparse and dense
 * blocks of the same rows give the same bits; it costs 8 bytes a non-zero value, where a
 * dense block costs 4 a value.
 */
final class SparseRows(val ptr: Array[Int], val indices: Array[Int], val values: Array[Float])
  extends Serializable {
  require(ptr.length % SparseRows.Segments == 1 && ptr(0) == 0 && ptr.last == indices.length &&
    indices.length == values.length, "sparse rows: 5 pointers a row and one, rising to the entries")

  def numRows: Int = ptr.length / SparseRows.Segments

  def nonZeros: Int = indices.length

  /** These rows followed by `next`'s. */
  def append(next: SparseRows): SparseRows = {
    val n = nonZeros
    val p = java.util.Arrays.copyOf(ptr, ptr.length + next.ptr.length - 1)
    var i = 1
    while (i < next.ptr.length) {
      p(ptr.length - 1 + i) = next.ptr(i) + n
      i += 1
    }
    val j = java.util.Arrays.copyOf(indices, n + next.nonZeros)
    System.arraycopy(next.indices, 0, j, n, next.nonZeros)
    val v = java.util.Arrays.copyOf(values, n + next.nonZeros)
    System.arraycopy(next.values, 0, v, n, next.nonZeros)
    new SparseRows(p, j, v)
  }
}

object SparseRows {
  /** Pointers per row: lanes 0 to 3 and the tail. */
  val Segments = 5

  /**
   * Rows of `dim` features, each given by its ascending feature indices and their
   * values (zeros allowed, and left out), in the lane layout.
   */
  def build(dim: Int, rows: Seq[(Array[Int], Array[Float])]): SparseRows = {
    val lanesEnd = dim - dim % 4
    def segment(j: Int): Int = if (j >= lanesEnd) 4 else j & 3
    var nnz = 0
    for ((js, xs) <- rows) {
      require(js.length == xs.length, s"${js.length} indices and ${xs.length} values")
      var k = 0
      while (k < xs.length) {
        if (xs(k) != 0f) nnz += 1
        k += 1
      }
    }
    val ptr = new Array[Int](rows.length * Segments + 1)
    val indices = new Array[Int](nnz)
    val values = new Array[Float](nnz)
    val pos = new Array[Int](Segments)
    var at = 0
    var p = 0
    for ((js, xs) <- rows) {
      // Count each segment's values, then place them: two passes over the row.
      java.util.Arrays.fill(pos, 0)
      var k = 0
      while (k < js.length) {
        if (xs(k) != 0f) pos(segment(js(k))) += 1
        k += 1
      }
      var s = 0
      while (s < Segments) {
        val n = pos(s)
        pos(s) = at
        at += n
        ptr(p + s + 1) = at
        s += 1
      }
      k = 0
      while (k < js.length) {
        if (xs(k) != 0f) {
          val s = segment(js(k))
          indices(pos(s)) = js(k)
          values(pos(s)) = xs(k)
          pos(s) += 1
        }
        k += 1
      }
      p += Segments
    }
    new SparseRows(ptr, indices, values)
  }
}
