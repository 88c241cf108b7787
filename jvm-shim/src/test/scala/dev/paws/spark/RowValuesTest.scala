package dev.paws.spark

import java.util.Random

import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.Test

/** The scan's row loops against the value-by-value rules they replace. */
class RowValuesTest {

  /** Counts of `rows` dense, and value by value (the sparse rows' path, the old scan). */
  private def both(rows: Seq[Array[Double]]): (RowValues.Counts, RowValues.Counts) = {
    val dense = new RowValues.Counts
    val one = new RowValues.Counts
    for ((v, r) <- rows.zipWithIndex) {
      dense.addDense(r, v)
      v.foreach(one.add(r, _))
    }
    (dense, one)
  }

  private def fields(c: RowValues.Counts) =
    Seq(c.nonZero, c.inexact, c.nonFinite, c.firstNonFiniteRow, c.firstNonFiniteValue)

  @Test
  def denseRowsCountAsValueByValue(): Unit = {
    val random = new Random(3)
    // Zeros of both signs, float32 values, values that round, subnormals of both widths,
    // float32's largest and values beyond it.
    val kinds = Array[() => Double](
      () => 0.0, () => -0.0, () => random.nextFloat().toDouble, () => random.nextGaussian(),
      () => java.lang.Float.MIN_VALUE.toDouble, () => java.lang.Double.MIN_VALUE, () => Float.MaxValue.toDouble,
      () => -1e-46)
    def row(bad: Boolean) = Array.tabulate(37) { j =>
      if (bad && j == 30) Seq(Double.NaN, 1e300, Double.NegativeInfinity)(random.nextInt(3))
      else kinds(random.nextInt(kinds.length))()
    }
    val finite = Seq.fill(50)(row(bad = false))
    val (d, o) = both(finite)
    assertEquals(fields(o), fields(d))
    assertTrue(d.nonZero > 0 && d.inexact > 0 && d.nonZero < 50 * 37, fields(d).toString)
    assertEquals(0L, d.nonFinite)

    // Rows 7 and 20 hold a value that is not finite in float32: named as before, and the
    // rows' other values counted as before.
    val mixed = finite.indices.map(r => if (r == 7 || r == 20) row(bad = true) else finite(r))
    val (dm, om) = both(mixed)
    assertEquals(fields(om), fields(dm))
    assertEquals(2L, dm.nonFinite)
    assertEquals(7L, dm.firstNonFiniteRow)
  }

  @Test
  def toFloatsRoundsEachValueInPlace(): Unit = {
    val v = Array(1.0, 0.1, -0.0, 1e-46, 3.4028235677973366e38)
    val out = Array.fill(7)(9f)
    RowValues.toFloats(v, out, 1)
    assertArrayEquals(Array(9f) ++ v.map(_.toFloat) :+ 9f, out)
  }
}
