package org.apache.spark.paws

import java.util.concurrent.TimeoutException
import scala.concurrent.Await
import scala.concurrent.duration._
import scala.util.control.NonFatal

import org.apache.spark.{BarrierCoordinator, BarrierTaskContext, HashPartitioner, RequestMethod, RequestToSync,
  ShuffleDependency, SparkContext, SparkEnv, TaskContext}
import org.apache.spark.rdd.RDD
import org.apache.spark.rpc.RpcTimeout
import org.apache.spark.scheduler.{SparkListener, SparkListenerApplicationEnd, TaskSchedulerImpl}
import org.apache.spark.util.RpcUtils
import org.slf4j.LoggerFactory

/**
 * What paws needs of Spark's scheduler that Spark keeps `private[spark]` (so this object
 * lives in Spark's package, as DataFusion Comet's `org.apache.spark.sql.comet` does).
 * Written against Spark 3.5; the jar is built for that line only.
 */
object SchedulerAccess {
  private val log = LoggerFactory.getLogger(getClass)
  private val watched = java.util.Collections.newSetFromMap(
    new java.util.WeakHashMap[SparkContext, java.lang.Boolean]())

  /**
   * The running barrier task's context. Not `BarrierTaskContext.get()`: that initialises
   * the companion object, whose non-daemon `java.util.Timer` would then keep a local-mode
   * driver JVM alive after `main` returns (Spark 3.5 never cancels it).
   */
  def barrierContext(): BarrierTaskContext = TaskContext.get() match {
    case b: BarrierTaskContext => b
    case other => throw new IllegalStateException(s"paws: not in a barrier task: $other")
  }

  /**
   * Spark 3.5's `BarrierCoordinator` (driver side) starts a non-daemon `java.util.Timer`
   * at its first sync and its `onStop` does not cancel it, so a driver that ran a barrier
   * stage does not exit after `main` returns (spark-submit hangs in local and client
   * mode; YARN cluster mode exits through the application master). This cancels the
   * timer when the application ends. Called for every SparkContext that runs a barrier
   * stage; registers once.
   */
  def cancelBarrierTimerAtEnd(sc: SparkContext): Unit = watched.synchronized {
    if (watched.add(sc)) {
      sc.addSparkListener(new SparkListener {
        override def onApplicationEnd(end: SparkListenerApplicationEnd): Unit = cancelBarrierTimer(sc)
      })
    }
  }

  private def cancelBarrierTimer(sc: SparkContext): Unit =
    try {
      sc.taskScheduler match {
        case ts: TaskSchedulerImpl =>
          // private[scheduler] and a private lazy val: through their JVM accessors.
          ts.getClass.getMethod("barrierCoordinator").invoke(ts) match {
            case c: BarrierCoordinator =>
              c.getClass.getMethod("org$apache$spark$BarrierCoordinator$$timer").invoke(c) match {
                case t: java.util.Timer => t.cancel()
                case _ =>
              }
            case _ => // no barrier stage ran
          }
        case _ =>
      }
    } catch {
      case NonFatal(e) => log.warn(s"paws: could not stop Spark's barrier timer (the JVM may not exit by itself): $e")
    }

  /**
   * Runs `rdd` as a stage that writes a shuffle, in a job of that stage alone (as adaptive
   * query execution submits its stages: `SparkContext.submitMapStage`), and waits for it.
   * For a barrier stage: Spark retries a failed barrier map stage as a whole, where it
   * aborts a failed barrier result stage. A job's failure is thrown as `collect` throws it;
   * a caller interrupted while it waits cancels the job.
   */
  def runAsMapStage(rdd: RDD[Unit]): Unit = {
    val dependency = new ShuffleDependency[Int, Unit, Unit](rdd.map(_ => (0, ())), new HashPartitioner(1))
    val job = rdd.sparkContext.submitMapStage(dependency)
    try Await.ready(job, Duration.Inf)
    catch {
      case e: InterruptedException =>
        job.cancel()
        throw e
    }
    job.value.get.get
  }

  /**
   * Tasks of the default resource profile that can run at once now: a barrier stage of
   * more partitions waits for slots and then fails, so the barrier driver checks first.
   */
  def maxConcurrentTasks(sc: SparkContext): Int =
    sc.maxNumConcurrentTasks(sc.resourceProfileManager.defaultResourceProfile)

  /**
   * Whether Spark counts dynamic allocation as on (as its barrier-stage check does: the
   * setting is ignored with a local master unless spark.dynamicAllocation.testing is set).
   */
  def dynamicAllocation(sc: SparkContext): Boolean =
    org.apache.spark.util.Utils.isDynamicAllocationEnabled(sc.getConf)

  /**
   * `BarrierTaskContext.allGather` without its one-second poll. Spark 3.5's
   * `BarrierTaskContext.runBarrier` sends the message to the driver's `BarrierCoordinator`
   * and then sleeps a whole second between checks of the reply, so every call costs about
   * a second (measured: 1,000 ms for 1 KB between two local tasks); for one sync per SGD
   * iteration that is 100 s a run. This sends the same `RequestToSync` to the same
   * coordinator (same epochs, same timeout `spark.barrier.sync.timeout`, same failure
   * handling: a task that fails makes the others' calls fail) and waits on the reply
   * itself, checking every 50 ms whether the task was killed. A task must use one
   * exchange for all its syncs (and not also the context's own `allGather`/`barrier`):
   * the coordinator counts the epochs.
   */
  final class BarrierExchange(ctx: BarrierTaskContext) {
    private val coordinator = {
      val env = SparkEnv.get
      RpcUtils.makeDriverRef("barrierSync", env.conf, env.rpcEnv)
    }
    private var epoch = 0

    /** Tasks of the stage. */
    def tasks: Int = ctx.numPartitions()

    def allGather(message: String): Array[String] = {
      val request = RequestToSync(ctx.numPartitions(), ctx.stageId(), ctx.stageAttemptNumber(),
        ctx.taskAttemptId(), epoch, ctx.partitionId(), message, RequestMethod.ALL_GATHER)
      val reply = coordinator.askAbortable[Array[String]](request, new RpcTimeout(365.days, "barrierTimeout"))
      try {
        while (!reply.future.isCompleted) {
          try Await.ready(reply.future, 50.millis)
          catch { case _: TimeoutException => }
          ctx.killTaskIfInterrupted()
        }
      } catch {
        case e: Throwable =>
          reply.abort(e)
          throw e
      }
      val all = reply.future.value.get.get // throws the coordinator's error, as allGather does
      epoch += 1
      all
    }
  }
}
