package dev.paws.spark

import dev.paws.spark.jni.{NativeExperiment, NativeKernels}
import java.util.Random

import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.function.Executable

/** Every length, index and handle is checked: bad input is an exception, never a crash. */
class NativeShapesTest {
  import NativeKernels._

  private def exec(f: => Any): Executable = new Executable { def execute(): Unit = f }

  private def iae(expect: String)(f: => Any): Unit = {
    val e = assertThrows(classOf[IllegalArgumentException], exec(f))
    assertTrue(e.getMessage.contains(expect), s"'${e.getMessage}' should contain '$expect'")
  }

  private val dim = 3
  private val rows = Array[Float](1, 2, 3, -1, 0.5f, 0.5f, 0, 0, 1, 2, 2, 2)
  private val labels = Array(1.0, 0.0, 1.0, 0.0)
  private val v = Array(0.1, -0.2, 0.3)
  private val svm = """{"loss":"hinge","updater":"l2","step_size":1.0,"iterations":5,"reg_param":0.01,"mini_batch_fraction":1.0,"convergence_tol":0.001}"""

  /** Runs `f` with the native kernel weights of `kernels` (`sweepWeightsOf`), freed after. */
  private def withWeights[T](kernels: Array[Double], dim: Int)(f: Long => T): T = {
    val w = sweepWeightsOf(kernels, dim)
    try f(w) finally assertTrue(sweepWeightsFree(w))
  }

  /**
   * One model's exact sum over the selected rows of one block, through a task
   * accumulator (`sweepAccAdd`, model id 0) and the kernel weights `v` and `offset`
   * (`sweepWeightsOf`, of `v.length` features); zero words when no row is sampled.
   */
  private def grad(
      loss: Int = LOSS_HINGE,
      rows: Array[Float] = rows,
      dim: Int = dim,
      first: Long = 0,
      sel: Array[Long] = Array(0L, 1, 2, 3),
      labels: Array[Double] = labels,
      weights: Array[Double] = null,
      v: Array[Double] = v,
      offset: Double = 0.0,
      iteration: Int = 1,
      fraction: Double = 1.0): Array[Long] = {
    withWeights(if (v == null) null else v :+ offset, if (v == null) 1 else v.length) { w =>
      val acc = sweepAccCreate(1, math.max(dim, 1))
      try {
        sweepAccAdd(acc, loss, rows, dim, first, Array(0), Array(0, if (sel == null) 0 else sel.length), sel,
          labels, weights, w, Array(0), iteration, fraction)
        val out = sweepAccFinish(acc)
        if (out(0) == 0L) new Array[Long](sumWords(dim)) else out.drop(2)
      } finally sweepAccFree(acc)
    }
  }

  @Test
  def goodBlockGivesASum(): Unit = {
    val s = grad()
    assertEquals(sumWords(dim), s.length)
    assertEquals(4L, s(s.length - 2), "count")
    assertEquals(0L, s(s.length - 1), "no overflow")
    // Merged from two halves of the rows in either order.
    val a = grad(sel = Array(0L, 1), labels = labels.take(2))
    val b = grad(sel = Array(2L, 3), labels = labels.drop(2))
    assertArrayEquals(s, mergeSums(a, b))
    assertArrayEquals(s, mergeSums(b, a))
    assertArrayEquals(s, mergeSums(new Array[Long](s.length), s))
  }

  @Test
  def badGradientShapesAreIllegalArguments(): Unit = {
    iae("selLabels has 3 values for 4 selected rows")(grad(labels = labels.take(3)))
    iae("selLabels has 5 values for 4 selected rows")(grad(labels = labels :+ 1.0))
    iae("not a multiple of dim 5")(grad(dim = 5, v = Array.fill(5)(0.1)))
    iae("dim must be positive")(grad(dim = 0))
    iae("dim must be positive")(grad(dim = -3))
    iae("rows must not be null")(grad(rows = null))
    iae("must not be null")(grad(labels = null))
    iae("kernels must not be null")(grad(v = null))
    iae("need 1 kernel weight vectors of 3")(grad(v = v.take(2)))
    iae("loss must be 0 (hinge) or 1 (logistic)")(grad(loss = 7))
    iae("iteration must be >= 0")(grad(iteration = -1))
    iae("miniBatchFraction")(grad(fraction = 0.0))
    iae("miniBatchFraction")(grad(fraction = 1.5))
    iae("miniBatchFraction")(grad(fraction = Double.NaN))
    iae("offsets must be finite")(grad(offset = Double.NaN))
    iae("firstRow must be >= 0")(grad(first = -5))
    iae("strictly ascending")(grad(sel = Array(0L, 2, 2, 3)))
    iae("must all lie in the block")(grad(sel = Array(0L, 1, 2, 4)))
    iae("label 2")(grad(labels = Array(1.0, 2.0, 0.0, 1.0)))
    iae("label NaN")(grad(labels = Array(1.0, Double.NaN, 0.0, 1.0)))
    iae("selWeights has 3 values for 4 selected rows")(grad(weights = Array(1.0, 1.0, 1.0)))
    iae("row weight -1")(grad(weights = Array(1.0, -1.0, 1.0, 1.0)))
  }

  @Test
  def badSumsAndHandlesAreIllegalArguments(): Unit = {
    val s = grad()
    iae("different lengths")(mergeSums(s, s.take(s.length - 2)))
    iae("not a gradient sum")(mergeSums(Array(1L, 2L, 3L), Array(1L, 2L, 3L)))
    iae("a must not be null")(mergeSums(null, s))

    val live = sgdLiveHandles()
    iae("paramsJson")(sgdCreate("{not json", dim, false, null, null, null))
    iae("paramsJson")(sgdCreate(svm.replace("hinge", "huber"), dim, false, null, null, null))
    iae("stepSize must be positive")(sgdCreate(svm.replace("\"step_size\":1.0", "\"step_size\":-1"), dim, false, null, null, null))
    iae("paramsJson must not be null")(sgdCreate(null, dim, false, null, null, null))
    iae("initial weights have 3 values, the model needs 4")(sgdCreate(svm, dim, true, null, null, v))
    iae("both be null or both given")(sgdCreate(svm, dim, false, v, null, null))
    iae("dim must be positive")(sgdCreate(svm, 0, false, null, null, null))
    assertEquals(live, sgdLiveHandles(), "failed creates leave nothing behind")

    val h = sgdCreate(svm, dim, false, null, null, null)
    try {
      assertEquals(1, sgdIteration(h))
      assertArrayEquals(Array(0.0, 0.0, 0.0, 0.0), sgdKernelWeights(h))
      iae("gradient sum has 2 values, expected 4")(sgdApply(h, new Array[Long](sumWords(1))))
      iae("not a gradient sum")(sgdApply(h, Array(1L)))
      iae("sumWords must not be null")(sgdApply(h, null))
      sgdApply(h, s)
      assertEquals(2, sgdIteration(h))
      assertEquals(1, sgdUpdates(h))
      assertEquals(1, sgdLossHistory(h).length)
      assertEquals(dim + 1, sgdRawModel(h).length)
    } finally assertTrue(sgdFree(h))
    assertFalse(sgdFree(h), "a second free is a no-op")
    iae(s"unknown SGD handle $h")(sgdIteration(h))
    iae("unknown SGD handle 0")(sgdRawModel(0L))
    iae("unknown SGD handle -7")(sgdApply(-7L, s))
    assertEquals(live, sgdLiveHandles())
  }

  @Test
  def badEvaluationShapesAreIllegalArguments(): Unit = {
    val w = Array(1.0, 1.0, -1.0)
    val all = Array(0L, 1, 2, 3)
    // Margins + 0.1 predict 1, 0, 0, 1 against labels 1, 0, 1, 0: one of each.
    assertArrayEquals(Array(1L, 1L, 1L, 1L), confusionSelected(LOSS_HINGE, rows, dim, 0, all, labels, w, 0.1, 0.0))
    iae("weights has 2 values for dim 3")(confusionSelected(LOSS_HINGE, rows, dim, 0, all, labels, w.take(2), 0.0, 0.0))
    iae("not a multiple of dim 5")(confusionSelected(LOSS_HINGE, rows, 5, 0, all, labels, Array.fill(5)(1.0), 0.0, 0.0))
    iae("selLabels has 2 values for 4 selected rows")(confusionSelected(LOSS_HINGE, rows, dim, 0, all, labels.take(2), w, 0.0, 0.0))
    iae("threshold must not be NaN")(confusionSelected(LOSS_LOGISTIC, rows, dim, 0, all, labels, w, 0.0, Double.NaN))
    iae("must not be null")(confusionSelected(LOSS_LOGISTIC, rows, dim, 0, all, labels, null, 0.0, 0.5))
  }

  @Test
  def selectedKernelsCheckTheirSelection(): Unit = {
    // Rows 10..13 of the dataset; the model's selection lists rows 5, 11 and 13 (5 lies in
    // another block and is skipped).
    val sel = Array(5L, 11L, 13L)
    val y = Array(1.0, 0.0, 1.0)
    // The accumulator takes the rows inside the block only (the driver cuts them out):
    // rows 257 and 259 of a block at the chunk start 256.
    def gs(rows: Array[Long] = Array(257L, 259L), labels: Array[Double] = Array(0.0, 1.0),
        weights: Array[Double] = null, first: Long = 256): Array[Long] =
      grad(first = first, sel = rows, labels = labels, weights = weights)
    val s = gs()
    assertEquals(2L, s(s.length - 2), "two selected rows in the block")
    assertArrayEquals(mergeSums(gs(rows = Array(257L), labels = Array(0.0)), gs(rows = Array(259L), labels = Array(1.0))), s)
    iae("selLabels has 1 values for 2 selected rows")(gs(labels = Array(0.0)))
    iae("selWeights has 1 values")(gs(weights = Array(1.0)))
    iae("strictly ascending")(gs(rows = Array(259L, 257L)))
    iae("label 3")(gs(labels = Array(1.0, 3.0)))
    iae("firstRow must be >= 0")(gs(first = -1))
    iae("must all lie in the block")(gs(rows = Array(5L, 257L)))
    iae("not at a chunk start")(gs(first = 10, rows = Array(11L, 13L)))
    iae("must not be null")(gs(rows = null))
    iae("must not be null")(gs(labels = null))
    val w = Array(1.0, 1.0, -1.0)
    // Margins of rows 11 and 13: -1 and 2: predictions 0 and 1 against labels 0 and 1.
    assertArrayEquals(Array(1L, 0L, 1L, 0L), confusionSelected(LOSS_HINGE, rows, dim, 10, sel, y, w, 0.0, 0.0))
    iae("threshold must not be NaN")(confusionSelected(LOSS_HINGE, rows, dim, 10, sel, y, w, 0.0, Double.NaN))
    iae("weights has 2 values for dim 3")(confusionSelected(LOSS_HINGE, rows, dim, 10, sel, y, w.take(2), 0.0, 0.0))
    // Moments: mean of rows 11 and 13, then the inverse standard deviations.
    val m = meanOfMoments(momentsSelected(rows, dim, 10, sel, null))
    assertArrayEquals(Array(0.5, 1.25, 1.25), m, 1e-15)
    val inv = invStdOfMoments(momentsSelected(rows, dim, 10, sel, m))
    assertArrayEquals(Array(1 / math.sqrt(4.5), 1 / math.sqrt(1.125), 1 / math.sqrt(1.125)), inv, 1e-15)
    iae("center has 2 values for dim 3")(momentsSelected(rows, dim, 10, sel, m.take(2)))
    iae("not a gradient sum")(meanOfMoments(Array(1L)))

    // Experiment sessions are handles like SGD states.
    iae("unknown experiment handle 0")(NativeExperiment.info(0L))
    iae("unknown experiment handle -3")(NativeExperiment.trainRows(-3L, 0))
    val h = NativeExperiment.create(Array("--class", "A", "--vs", "B", "--splits", "0.5"))
    try {
      iae("no dataset yet")(NativeExperiment.trainRows(h, 0))
      NativeExperiment.setData(h, Array("A_1.jpg", "B_1.jpg", "A_2.jpg", "B_2.jpg"),
        Array("A", "B", "A", "B"), 2, "x", "test")
      assertEquals(2, NativeExperiment.trainRows(h, 0).length, "one row of each class")
      assertEquals(2, NativeExperiment.testRows(h, 0).length)
      iae("task 1 out of range")(NativeExperiment.trainRows(h, 1))
      iae("images[1] is null")(NativeExperiment.setData(h, Array("a", null), Array("A", "B"), 2, "x", "t"))
      iae("scaling statistics given")(NativeExperiment.sgdCreate(h, 0, Array(0.0, 0.0), Array(1.0, 1.0)))
      iae("unknown SGD handle 0")(NativeExperiment.finish(h, 0, 0L, Array(0L, 0L, 0L, 0L), 0.0))
      iae("task 0 has no result yet")(NativeExperiment.writeReport(h, "/nonexistent"))
    } finally assertTrue(NativeExperiment.free(h))
    assertFalse(NativeExperiment.free(h))
  }

  @Test
  def accumulatorSumsEachModelAsAlone(): Unit = {
    // A block of 300 rows starting at the chunk boundary 256 (two chunks), 7 features.
    val r = new Random(5)
    val (d, first, n) = (7, 256L, 300)
    val x = Array.fill(n * d)(r.nextFloat() * 2 - 0.5f)
    val sels = Seq(
      (first until first + n by 2).toArray,                 // every other row, both chunks
      (first + 10 until first + 40).toArray,                // a run inside the first chunk
      Array(first + 5, first + 299),                        // the first and last chunk
      (first + 260 until first + 300 by 3).toArray)         // the second chunk only
    val ys = sels.map(_.map(_ => if (r.nextBoolean()) 1.0 else 0.0))
    val ws = sels.map(_.map(_ => 0.5 + r.nextDouble()))
    val vs = sels.map(_ => Array.fill(d)(r.nextGaussian() * 0.3))
    val offs = sels.indices.map(i => 0.1 * i).toArray
    for (loss <- Seq(LOSS_HINGE, LOSS_LOGISTIC); weighted <- Seq(false, true); fraction <- Seq(1.0, 0.5)) {
      val words = sumWords(d)
      val alone = sels.indices.map(k => grad(loss, x, d, first, sels(k), ys(k), if (weighted) ws(k) else null,
        vs(k), offs(k), 3, fraction))
      // The same sums through a task accumulator, the models added in two calls under
      // other ids (3, 7 and 0, 9): n, the ids in order, then their words. The pass's
      // kernel weights are the per-job driver's (`sweepWeightsOf` of the four models'
      // weights, broadcast) or the barrier driver's (`sweepWeightsCreate` of SGD states
      // whose weights are the models'); both are given in another order than the models'
      // (members index them).
      val order = Array(3, 1, 0, 2)
      def accumulate(weights: Long): Array[Long] = {
        val acc = sweepAccCreate(10, d)
        for ((models, ids) <- Seq((Seq(0, 1), Array(3, 7)), (Seq(2, 3), Array(0, 9)))) {
          val ss = models.map(sels(_))
          val st = ss.scanLeft(0)(_ + _.length).toArray
          sweepAccAdd(acc, loss, x, d, first, ids, st, ss.flatten.toArray, models.flatMap(ys(_)).toArray,
            if (weighted) models.flatMap(ws(_)).toArray else null, weights, models.map(order.indexOf(_)).toArray,
            3, fraction)
        }
        val out = sweepAccFinish(acc)
        assertFalse(sweepAccFree(acc), "finished accumulators are freed")
        iae("unknown sweep accumulator handle")(sweepAccFinish(acc))
        out
      }
      val out = withWeights(order.flatMap(k => vs(k) :+ offs(k)), d)(accumulate)
      val n = out(0).toInt
      val got = (0 until n).map(q => out(1 + q).toInt -> out.slice(1 + n + q * words, 1 + n + (q + 1) * words)).toMap
      assertEquals(got.keys.toSeq.sorted, out.slice(1, 1 + n).map(_.toInt).toSeq, "ids in ascending order")
      for ((id, model) <- Seq(3 -> 0, 7 -> 1, 0 -> 2, 9 -> 3)) {
        val want = alone(model)
        // A model without sampled rows in the block has no entry: its sum is zero.
        assertArrayEquals(want, got.getOrElse(id, new Array[Long](words)), s"accumulated model $model (id $id)")
      }
      assertTrue(n >= 3, s"$n models accumulated")

      val sgds = order.map(k => sgdCreate(svm, d, true, null, null, vs(k) :+ offs(k)))
      val round = sweepWeightsCreate(sgds)
      try {
        assertArrayEquals(out, accumulate(round), "the SGD states' weights give the given weights' sums")
        val acc3 = sweepAccCreate(10, d)
        try iae("member 4 out of range: the pass has 4 models")(sweepAccAdd(acc3, loss, x, d, first, Array(0),
          Array(0, 1), Array(first), Array(1.0), null, round, Array(4), 3, fraction))
        finally sweepAccFree(acc3)
      } finally {
        assertTrue(sweepWeightsFree(round))
        sgds.foreach(sgdFree)
      }
      assertFalse(sweepWeightsFree(round), "freed once")
      val acc4 = sweepAccCreate(10, d)
      try iae("unknown sweep weights handle")(sweepAccAdd(acc4, loss, x, d, first, Array(0),
        Array(0, 1), Array(first), Array(1.0), null, round, Array(0), 3, fraction))
      finally sweepAccFree(acc4)
    }
    iae("kernels must hold K × (dim + 1) = K × 8 values")(sweepWeightsOf(Array.fill(7)(0.1), d))
    iae("dim must be positive")(sweepWeightsOf(Array(0.1), 0))
    iae("kernels must not be null")(sweepWeightsOf(null, d))
    withWeights(Array.fill(d)(0.1) :+ 0.0, d) { w =>
      val acc = sweepAccCreate(2, d)
      iae("model id 5 out of range")(sweepAccAdd(acc, LOSS_HINGE, x, d, first, Array(5), Array(0, 1), Array(first),
        Array(1.0), null, w, Array(0), 1, 1.0))
      iae("modelIds must hold 1 ids")(sweepAccAdd(acc, LOSS_HINGE, x, d, first, Array(0, 1), Array(0, 1),
        Array(first), Array(1.0), null, w, Array(0), 1, 1.0))
      iae("members must not be null")(sweepAccAdd(acc, LOSS_HINGE, x, d, first, Array(0), Array(0, 1),
        Array(first), Array(1.0), null, w, null, 1, 1.0))
      assertTrue(sweepAccFree(acc))
    }
    def gb(start: Array[Int] = Array(0, 2), rows: Array[Long] = Array(first, first + 1),
        labels: Array[Double] = Array(1.0, 0.0), v: Array[Double] = Array.fill(d)(0.1),
        offset: Double = 0.0, firstRow: Long = first): Unit = withWeights(v :+ offset, v.length) { w =>
      val a = sweepAccCreate(1, d)
      try sweepAccAdd(a, LOSS_HINGE, x, d, firstRow, Array(0), start, rows, labels, null, w, Array(0), 1, 1.0)
      finally sweepAccFree(a)
    }
    gb()
    iae("not at a chunk start")(gb(firstRow = first + 1, rows = Array(first + 1, first + 2)))
    iae("selStart must rise from 0 to 2")(gb(start = Array(0, 1)))
    iae("selStart must have K + 1 entries")(gb(start = Array()))
    iae("must all lie in the block")(gb(rows = Array(first, first + n)))
    iae("need 1 kernel weight vectors of 7")(gb(v = Array(0.1)))
    iae("offsets must be finite")(gb(offset = Double.NaN))
    iae("label 2")(gb(labels = Array(1.0, 2.0)))
    iae("strictly ascending")(gb(rows = Array(first + 1, first)))
    iae("selStart must not be null")(gb(start = null))
  }

  @Test
  def refreshedWeightsAreTheStatesWeights(): Unit = {
    // Two states; the second is updated, then the weights refreshed in place: a block's
    // sums then equal those with its weights made anew (sweepWeightsOf).
    val sgds = Array(v, v.map(_ * -2)).map(w => sgdCreate(svm, dim, true, null, null, w :+ 0.25))
    val weights = sweepWeightsCreate(sgds)
    try {
      sgdApply(sgds(1), grad())
      sweepWeightsRefresh(weights, sgds, Array(0, 1))
      def sums(w: Long, slot: Int): Array[Long] = {
        val acc = sweepAccCreate(1, dim)
        try {
          sweepAccAdd(acc, LOSS_HINGE, rows, dim, 0, Array(0), Array(0, 4), Array(0L, 1, 2, 3), labels, null, w,
            Array(slot), 1, 1.0)
          sweepAccFinish(acc)
        } finally sweepAccFree(acc)
      }
      for (k <- 0 to 1) {
        withWeights(sgdKernelWeights(sgds(k)), dim) { fresh =>
          assertArrayEquals(sums(fresh, 0), sums(weights, k), s"model $k")
        }
      }
      assertFalse(java.util.Arrays.equals(sums(weights, 0), sums(weights, 1)), "the two models differ")
      // A refresh of model 1 alone releases model 0's weights (it is done): naming it is
      // an error, and model 1 still reads its own.
      val before = sums(weights, 1)
      sweepWeightsRefresh(weights, Array(sgds(1)), Array(1))
      assertArrayEquals(before, sums(weights, 1))
      iae("member 0: its weights were released (its model is done)")(sums(weights, 0))
      // Refreshed again, a released entry is made anew.
      sweepWeightsRefresh(weights, sgds, Array(0, 1))
      withWeights(sgdKernelWeights(sgds(0)), dim) { fresh => assertArrayEquals(sums(fresh, 0), sums(weights, 0)) }
      iae("slot 2 out of range: the weights hold 2 models")(sweepWeightsRefresh(weights, Array(sgds(0)), Array(2)))
      iae("1 slots for 2 SGD handles")(sweepWeightsRefresh(weights, sgds, Array(0)))
      iae("unknown SGD handle")(sweepWeightsRefresh(weights, Array(-7L), Array(0)))
    } finally {
      assertTrue(sweepWeightsFree(weights))
      sgds.foreach(sgdFree)
    }
    iae("unknown sweep weights handle")(sweepWeightsRefresh(weights, Array(), Array()))
  }

  @Test
  def randomGarbageNeverCrashesTheJvm(): Unit = {
    val r = new Random(11)
    def arr(n: Int) = if (r.nextInt(10) == 0) null else Array.fill(n)(r.nextFloat())
    def darr(n: Int) = if (r.nextInt(10) == 0) null else Array.fill(n)(r.nextInt(3).toDouble)
    var ok = 0
    var rejected = 0
    for (_ <- 0 until 3000) {
      val d = r.nextInt(6) - 1
      val n = r.nextInt(5)
      try {
        val acc = sweepAccCreate(1, math.max(d, 1))
        try {
          val sel = if (r.nextInt(10) == 0) null else (0 until n).map(_.toLong + r.nextInt(2)).toArray
          val kernel = darr(math.max(d, 0) + 1)
          val w = sweepWeightsOf(kernel, math.max(d + r.nextInt(3) - 1, 1))
          try {
            sweepAccAdd(acc, r.nextInt(3), arr(n * math.max(d, 1) + r.nextInt(2)), d, (r.nextInt(3) - 1) * 256L,
              Array(r.nextInt(2)), Array(0, n + r.nextInt(2) - 1), sel, darr(n + r.nextInt(2) - 1),
              if (r.nextBoolean()) null else darr(n), w, Array(r.nextInt(2)), r.nextInt(4) - 1, r.nextDouble() * 1.2)
          } finally sweepWeightsFree(w)
          sweepAccFinish(acc)
        } finally sweepAccFree(acc)
        ok += 1
      } catch {
        case _: IllegalArgumentException => rejected += 1
      }
    }
    assertTrue(ok > 0 && rejected > 0, s"ok $ok rejected $rejected")
  }
}
