package dev.paws.spark

import dev.paws.spark.jni.{NativeContract, NativeKernels}
import java.util.UUID

import org.apache.spark.SparkContext
import org.apache.spark.mllib.linalg.{Vector, Vectors}
import org.apache.spark.mllib.regression.{GeneralizedLinearModel, LabeledPoint}
import org.apache.spark.rdd.RDD
import org.apache.spark.storage.StorageLevel
import org.slf4j.LoggerFactory

/**
 * What a native training run did, beside the model.
 *
 * @param weights raw-feature weights (the model's)
 * @param intercept the model's intercept (0.0 without `setIntercept(true)`)
 * @param lossHistory MLlib's stochastic loss history, one value per pass
 * @param passes passes over the data (MLlib's loop runs up to numIterations + 1)
 * @param updates weight updates applied
 * @param converged whether the convergence test stopped the loop early
 * @param numRows training rows
 * @param prepareSeconds time to convert the input into cached blocks
 * @param trainSeconds time of the SGD passes
 * @param driver "barrier" (one stage) or "jobs" (a Spark job per pass), see `SgdDriver`
 * @param kernelSeconds time the tasks spent in the native gradient kernel, summed over tasks
 * @param exchangeSeconds time the barrier driver's tasks spent exchanging their sums
 *                        (waiting for the slowest task included), summed over tasks
 * @param blockFormat "dense" or "sparse": how the cached blocks hold the rows ([[BlockFormat]])
 */
final class NativeTrainingSummary(
    val weights: Vector,
    val intercept: Double,
    val lossHistory: Array[Double],
    val passes: Int,
    val updates: Int,
    val converged: Boolean,
    val numRows: Long,
    val prepareSeconds: Double,
    val trainSeconds: Double,
    val driver: String,
    val kernelSeconds: Double,
    val exchangeSeconds: Double,
    val blockFormat: String)
  extends Serializable {
  override def toString: String =
    f"NativeTrainingSummary(rows $numRows, features ${weights.size}, passes $passes, " +
      f"updates $updates, converged $converged, $blockFormat blocks, prepare $prepareSeconds%.3f s, " +
      f"train $trainSeconds%.3f s " +
      f"($driver driver; summed over tasks: kernel $kernelSeconds%.3f s, exchange $exchangeSeconds%.3f s))"
}

/**
 * MLlib's `GeneralizedLinearAlgorithm` + `GradientDescent` with the numerics in the
 * paws native core: the same parameters, defaults and results (to the last digits; see
 * the README), returning real MLlib models.
 *
 * Data flow: the input is converted once into float32 [[RowBlock]]s (dense, or sparse
 * when few values are non-zero: [[BlockFormat]]) persisted at
 * [[setStorageLevel]] (default MEMORY_ONLY, [[LabeledInput]]), then [[SgdDriver]] runs the
 * passes with this one model, as it runs a whole sweep of `PetBreedExperiment`. The
 * blocks are unpersisted at the end.
 */
abstract class NativeGLMWithSGD[M <: GeneralizedLinearModel] protected (
    lossCode: Int,
    displayName: String)
  extends Serializable {

  // MLlib's defaults, as the native library states them.
  private var stepSize = NativeContract.get().defaultStepSize()
  private var numIterations = NativeContract.get().defaultIterations()
  private var regParam = NativeContract.get().defaultRegParam()
  private var miniBatchFraction = NativeContract.get().defaultMiniBatchFraction()
  private var convergenceTol = NativeContract.get().defaultConvergenceTol()
  private var updater = NativeContract.get().defaultUpdater()
  private var addIntercept = NativeContract.get().defaultIntercept()
  private var validateData = true
  private var storageLevel: StorageLevel = StorageLevel.MEMORY_ONLY
  private var treeDepth = 2
  @transient private var summary: NativeTrainingSummary = _

  def setStepSize(v: Double): this.type = {
    require(v > 0 && !v.isInfinite, s"stepSize must be positive, got $v")
    stepSize = v
    this
  }

  def setNumIterations(v: Int): this.type = {
    require(v >= 0, s"numIterations must be >= 0, got $v")
    numIterations = v
    this
  }

  def setRegParam(v: Double): this.type = {
    require(v >= 0 && !v.isInfinite, s"regParam must be >= 0, got $v")
    regParam = v
    this
  }

  def setMiniBatchFraction(v: Double): this.type = {
    require(v > 0 && v <= 1.0, s"miniBatchFraction must be in (0, 1], got $v")
    miniBatchFraction = v
    this
  }

  def setConvergenceTol(v: Double): this.type = {
    require(v >= 0 && v <= 1.0, s"convergenceTol must be in [0, 1], got $v")
    convergenceTol = v
    this
  }

  /**
   * "l2" (MLlib's `SquaredL2Updater`, the default), "l1" or "none" (`SimpleUpdater`; "simple"
   * is accepted for it): the CLI's names.
   */
  def setUpdater(name: String): this.type = {
    updater = NativeContract.get().canonicalUpdater(name)
    this
  }

  /** MLlib's `setIntercept`: a 1.0 feature appended (and regularised like the others). */
  def setIntercept(v: Boolean): this.type = {
    addIntercept = v
    this
  }

  /** MLlib's `setValidateData`: reject labels other than 0 and 1 (default true). */
  def setValidateData(v: Boolean): this.type = {
    validateData = v
    this
  }

  /** Where Spark keeps the converted blocks (default MEMORY_ONLY). */
  def setStorageLevel(v: StorageLevel): this.type = {
    require(v != null && v != StorageLevel.NONE, "storage level must not be NONE")
    storageLevel = v
    this
  }

  def setTreeAggregateDepth(v: Int): this.type = {
    require(v >= 1, s"depth must be >= 1, got $v")
    treeDepth = v
    this
  }

  def getStepSize: Double = stepSize
  def getNumIterations: Int = numIterations
  def getRegParam: Double = regParam
  def getMiniBatchFraction: Double = miniBatchFraction
  def getConvergenceTol: Double = convergenceTol
  def getUpdater: String = updater
  def isAddIntercept: Boolean = addIntercept
  def getStorageLevel: StorageLevel = storageLevel

  /** The summary of the last `run` of this object, or null. */
  def lastSummary: NativeTrainingSummary = summary

  protected def createModel(weights: Vector, intercept: Double): M

  def run(input: RDD[LabeledPoint]): M = run(input, null)

  /** Trains from `initialWeights` (raw features, without the intercept), like MLlib. */
  def run(input: RDD[LabeledPoint], initialWeights: Vector): M = {
    val s = runWithSummary(input, initialWeights)
    createModel(s.weights, s.intercept)
  }

  /** SGD parameters as the native `SgdParams` JSON. */
  private[spark] def paramsJson: String =
    NativeKernels.sgdParamsJson(lossCode, updater, stepSize, numIterations, regParam, miniBatchFraction,
      convergenceTol)

  def runWithSummary(input: RDD[LabeledPoint], initialWeights: Vector): NativeTrainingSummary = {
    require(input != null, "input must not be null")
    val sc = input.sparkContext
    val log = LoggerFactory.getLogger(getClass)
    if (input.getStorageLevel == StorageLevel.NONE) {
      log.warn("The input data is not directly cached; paws reads it twice to build its blocks.")
    }
    NativeKernels.ensureLoaded()
    val json = paramsJson
    val props = JobProps.enter(sc, displayName)
    try {
      val t0 = System.nanoTime()
      props.describe(s"paws: $displayName: converting rows to float32 blocks")
      val prepared = LabeledInput.toBlocks(input, validateData, storageLevel)
      val t1 = System.nanoTime()
      try {
        val dim =
          if (prepared.numRows > 0) prepared.dim
          else if (initialWeights != null) initialWeights.size
          else throw new IllegalArgumentException("paws: the input RDD has no rows")
        val initial = Option(initialWeights).map { w =>
          require(w.size == dim, s"initialWeights has ${w.size} values, the data $dim features")
          if (addIntercept) w.toArray :+ 1.0 else w.toArray
        }
        val h = NativeKernels.sgdCreate(json, dim, addIntercept, null, null, initial.orNull)
        try {
          val timings = if (prepared.numRows > 0) {
            SgdDriver.train(sc, prepared.blocks, SgdDriver.EveryRow, Array(h), Array(0), lossCode, dim,
              miniBatchFraction, treeDepth, (i, _) => {
                val what = if (i > numIterations) " (final loss)" else ""
                s"paws: $displayName iteration $i/$numIterations$what"
              })
          } else {
            log.warn("paws: no training rows: returning the initial weights")
            new SgdDriver.Timings(sc)
          }
          val raw = NativeKernels.sgdRawModel(h)
          val s = new NativeTrainingSummary(
            Vectors.dense(java.util.Arrays.copyOf(raw, dim)),
            raw(dim),
            NativeKernels.sgdLossHistory(h),
            NativeKernels.sgdIteration(h) - 1,
            NativeKernels.sgdUpdates(h),
            NativeKernels.sgdConverged(h),
            prepared.numRows,
            (t1 - t0) / 1e9,
            (System.nanoTime() - t1) / 1e9,
            timings.driver,
            timings.kernelNanos.sum / 1e9,
            timings.exchangeNanos.sum / 1e9,
            prepared.format)
          summary = s
          log.info(s"paws: $displayName trained: $s")
          s
        } finally {
          NativeKernels.sgdFree(h)
        }
      } finally {
        prepared.blocks.unpersist(blocking = false)
      }
    } finally {
      props.exit()
    }
  }
}

/**
 * The thread's job group and description during a run, restored afterwards. A job group
 * the caller set is kept (it is theirs to cancel); otherwise the run gets its own.
 */
private[spark] final class JobProps private (
    sc: SparkContext,
    oldGroup: String,
    oldDescription: String,
    oldInterrupt: String) {

  def describe(text: String): Unit = sc.setJobDescription(text)

  def exit(): Unit = {
    sc.setLocalProperty(JobProps.Group, oldGroup)
    sc.setLocalProperty(JobProps.Description, oldDescription)
    sc.setLocalProperty(JobProps.Interrupt, oldInterrupt)
  }
}

private[spark] object JobProps {
  val Group = "spark.jobGroup.id"
  val Description = "spark.job.description"
  val Interrupt = "spark.job.interruptOnCancel"

  def enter(sc: SparkContext, name: String): JobProps = {
    val p = new JobProps(sc, sc.getLocalProperty(Group), sc.getLocalProperty(Description),
      sc.getLocalProperty(Interrupt))
    if (sc.getLocalProperty(Group) == null) {
      sc.setJobGroup(s"paws-${name.toLowerCase.replace(' ', '-')}-${UUID.randomUUID()}",
        s"paws: $name", interruptOnCancel = false)
    }
    p
  }
}
