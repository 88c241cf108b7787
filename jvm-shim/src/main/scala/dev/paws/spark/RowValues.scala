package dev.paws.spark

/**
 * Loops over one row's values for the drop-ins' scan and conversion, each in a method of
 * its own. Called once a row, these are compiled whole by the JIT after a few rows; the
 * same loop written inside a partition's closure ran in the interpreter until on-stack
 * replacement, in every task again, and counted into the boxed `var`s that a closure
 * captures: the scan of the drop-in benchmark's 7,390 × 4,096 rows took 0.16 s a task.
 */
private[spark] object RowValues {

  /** `v` in float32, into `dst` from `at`. */
  def toFloats(v: Array[Double], dst: Array[Float], at: Int): Unit = {
    var j = 0
    while (j < v.length) {
      dst(at + j) = v(j).toFloat
      j += 1
    }
  }

  /**
   * What the scan counts over a partition's values in float32: non-zero ones, rounded
   * ones, and non-finite ones (the first one's row and value). A non-finite value counts
   * as nothing else.
   */
  final class Counts {
    var nonZero = 0L
    var inexact = 0L
    var nonFinite = 0L
    var firstNonFiniteRow = -1L
    var firstNonFiniteValue = 0.0

    /** Counts a dense row's values. */
    def addDense(row: Long, v: Array[Double]): Unit = {
      var nz = 0
      var rounded = 0
      var finite = true
      var j = 0
      while (j < v.length) {
        val x = v(j)
        val f = x.toFloat
        // Without a branch: a quarter of ReLU features are non-zero, at random.
        val bits = java.lang.Float.floatToRawIntBits(f) & 0x7fffffff
        nz += (bits | -bits) >>> 31
        finite &= bits < 0x7f800000
        if (f.toDouble != x) rounded += 1
        j += 1
      }
      if (finite) {
        nonZero += nz
        inexact += rounded
      } else {
        // A row that fails the run: counted value by value, as the error names the first.
        j = 0
        while (j < v.length) {
          add(row, v(j))
          j += 1
        }
      }
    }

    /** Counts one value of row `row`. */
    def add(row: Long, x: Double): Unit = {
      val f = x.toFloat
      if (f.isNaN || f.isInfinite) {
        if (firstNonFiniteRow < 0) {
          firstNonFiniteRow = row
          firstNonFiniteValue = x
        }
        nonFinite += 1
      } else {
        if (f.toDouble != x) inexact += 1
        if (f != 0f) nonZero += 1
      }
    }
  }
}
