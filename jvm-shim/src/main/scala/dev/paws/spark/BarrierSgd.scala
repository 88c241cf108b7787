package dev.paws.spark

import dev.paws.spark.jni.{NativeKernels, PawsNativeException}
import java.nio.charset.StandardCharsets.ISO_8859_1
import java.util.UUID

import scala.collection.JavaConverters._

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.{FileSystem, Path}
import org.apache.spark.{SerializableWritable, SparkContext}
import org.apache.spark.broadcast.Broadcast
import org.apache.spark.paws.SchedulerAccess
import org.apache.spark.rdd.RDD

/**
 * The barrier driver: a whole SGD run in one Spark stage (barrier execution mode, as
 * XGBoost4J-Spark trains every boosting round in one stage).
 *
 * Every task keeps its cached blocks and a copy of every model's native SGD state
 * (`sgdSave`/`sgdLoad`). Per iteration, each task sums its blocks for the models still
 * training into one message (`sweepAccFinishMessage`), `allGather` hands every task all
 * the messages (through Spark's `BarrierCoordinator`, without the one-second poll of
 * `BarrierTaskContext.allGather`: [[SchedulerAccess.BarrierExchange]]), and every task
 * applies the same merged sums (`sgdApplyRound`). The sums
 * are exact, so the tasks' states stay identical, bit for bit, and equal the per-job
 * driver's and the in-process engine's. Converged models drop out as there.
 *
 * Faults: a failed barrier task makes Spark retry the whole stage. Every
 * `checkpointInterval` rounds the first task writes the states to [[SgdCheckpoints]]; a
 * retried stage starts from the newest checkpoint that every task can read.
 */
private[spark] object BarrierSgd {
  private val log = org.slf4j.LoggerFactory.getLogger(getClass)

  /**
   * What a task reports (as an accumulator update, see [[train]]): its share of the final
   * states, model k's from task `k % tasks`, each with its k; or, from the first task
   * only, the error that stopped every task (its class and message).
   */
  private[spark] final case class Outcome(states: Array[(Int, Array[Byte])], errorClass: String, errorMessage: String)

  private def rethrow(o: Outcome): Nothing = o.errorClass match {
    case "dev.paws.spark.jni.PawsNativeException" => throw new PawsNativeException(o.errorMessage)
    case _ => throw new IllegalArgumentException(o.errorMessage)
  }

  /**
   * Every task's `message`, in pieces of at most `chunkChars` characters per sync: the
   * coordinator holds all tasks' pieces and sends them all to every task, so a large
   * sweep's sums (thousands of models) go in several syncs instead of one huge RPC
   * message. The first sync also carries each task's number of pieces.
   *
   * The bytes travel as a Latin-1 string, one character per byte (a JVM stores such a
   * string as its bytes): Base64 cost about 3 ms a round for a 1.5 MB message (W2's 36
   * models × 4,097 sums at about 10 bytes each), 0.3 s of a 100-iteration run, where this
   * costs a copy (measured in jshell, 100 rounds of an encode and two decodes of
   * 1.5 MB: 311-466 ms against 32-46 ms). Between JVMs, Java serialisation writes it as
   * modified UTF-8, about 1.5 bytes a byte against Base64's 1.33.
   */
  private[spark] def gatherBytes(
      exchange: SchedulerAccess.BarrierExchange,
      message: Array[Byte],
      chunkChars: Int): Array[Array[Byte]] = {
    // One task has nobody to exchange with.
    if (exchange.tasks == 1) return Array(message)
    val text = new String(message, ISO_8859_1)
    val pieces = math.max(1, (text.length + chunkChars - 1) / chunkChars)
    def piece(k: Int): String =
      if (k < pieces) text.substring(k * chunkChars, math.min(text.length, (k + 1) * chunkChars)) else ""
    val first = exchange.allGather(s"$pieces:${piece(0)}")
    val counts = first.map(m => m.substring(0, m.indexOf(':')).toInt)
    val texts = first.map(m => new java.lang.StringBuilder(m.substring(m.indexOf(':') + 1)))
    for (k <- 1 until counts.max) {
      val more = exchange.allGather(piece(k))
      for (t <- texts.indices) texts(t).append(more(t))
    }
    texts.map(t => t.toString.getBytes(ISO_8859_1))
  }

  /**
   * The final states of the newest stage attempt's outcomes (a retried stage's earlier
   * attempts may have reported too), in model order; its error rethrown if it has one.
   */
  private[spark] def finalStates(outcomes: Seq[(Int, Outcome)], models: Int): Array[Array[Byte]] = {
    if (outcomes.isEmpty) throw new IllegalStateException("paws: the barrier stage returned no states")
    val newest = outcomes.map(_._1).max
    val reports = outcomes.collect { case (`newest`, o) => o }
    reports.find(_.errorClass != null).foreach(rethrow)
    val states = reports.flatMap(_.states).toMap
    val missing = (0 until models).filterNot(states.contains)
    if (missing.nonEmpty) {
      throw new IllegalStateException(s"paws: the barrier stage (attempt $newest) returned no state for " +
        s"${missing.length} of $models models (the first: model ${missing.head})")
    }
    Array.tabulate(models)(states)
  }

  /** Bytes of a message per sync of [[gatherBytes]] (default 16 Mi). */
  val ExchangeChunkConf = "spark.paws.sgd.exchangeChunkChars"

  def train(
      sc: SparkContext,
      blocks: RDD[RowBlock],
      rows: SgdDriver.ModelRows,
      sgds: Array[Long],
      training: Array[Int],
      loss: Int,
      dim: Int,
      fraction: Double,
      checkpoints: Option[SgdCheckpoints],
      timings: SgdDriver.Timings): Unit = {
    SchedulerAccess.cancelBarrierTimerAtEnd(sc)
    val initial: Broadcast[Array[Array[Byte]]] = sc.broadcast(training.map(j => NativeKernels.sgdSave(sgds(j))))
    val models = sgds.length
    // As spark.paws.sgd.driver, a local property of the calling thread overrides the setting.
    val chunkChars = Option(sc.getLocalProperty(ExchangeChunkConf)).orElse(sc.getConf.getOption(ExchangeChunkConf))
      .map(_.trim.toInt).getOrElse(16 << 20)
    require(chunkChars > 0, s"$ExchangeChunkConf must be positive, got $chunkChars")
    val kernelNanos = timings.kernelNanos
    val taskNanos = timings.taskNanos
    val exchangeNanos = timings.exchangeNanos
    // The tasks' outcomes, tagged with their stage attempt: a retried stage's tasks that
    // succeeded in a failed attempt have reported too. Every task reports a share of the
    // final states, so that no one task's result holds them all (W2's 1.2 MB split in two
    // stays under spark.task.maxDirectResultSize; W3's hundreds of MB are spread out).
    // Unnamed: Spark's UI and event log record named accumulators' values.
    val outcomes = sc.collectionAccumulator[(Int, Outcome)]
    val t0 = System.nanoTime()
    try {
      val stage = blocks.barrier().mapPartitions { it =>
        val start = System.nanoTime()
        val ctx = SchedulerAccess.barrierContext()
        val exchange = new SchedulerAccess.BarrierExchange(ctx)
        val local = it.toArray
        // Start from the newest checkpoint that every task sees (a retried stage), else
        // from the driver's states. Checkpoints are only added during a run, so the
        // smallest newest one is there for all.
        val seen = checkpoints.flatMap(_.newest()).getOrElse(0)
        val round0 = exchange.allGather(seen.toString).map(_.toInt).min
        val states = if (round0 > 0) {
          log.warn(s"paws SGD: stage attempt ${ctx.stageAttemptNumber()} resumes from the checkpoint of " +
            s"round $round0")
          checkpoints.get.read(round0)
        } else initial.value
        val hs = states.map(NativeKernels.sgdLoad)
        ctx.addTaskCompletionListener[Unit](_ => hs.foreach(NativeKernels.sgdFree))
        // The models' kernel weights stay native for the whole stage: computed once from
        // the states (entry k for model k), read in place by every block (members index
        // them), refreshed in place after each round for the models still training (the
        // done ones' are released: W3's 5,994 models hold 196 MB of them a task at first).
        val tw = System.nanoTime()
        val weights = NativeKernels.sweepWeightsCreate(hs)
        ctx.addTaskCompletionListener[Unit](_ => NativeKernels.sweepWeightsFree(weights))
        var preparing = System.nanoTime() - tw
        var active = hs.indices.filter(k => !NativeKernels.sgdIsDone(hs(k))).toArray
        var round = round0
        var kernel = 0L
        var exchanging = 0L
        var encoding = 0L
        var applying = 0L
        var error: Exception = null
        while (active.nonEmpty && error == null) {
          val tp = System.nanoTime()
          val i = NativeKernels.sgdIteration(hs(active.head))
          val members = new SgdDriver.BlockMembers(rows, active.map(training), dim, weights, active)
          val acc = NativeKernels.sweepAccCreate(models, dim)
          preparing += System.nanoTime() - tp
          val message = try {
            for (b <- local) kernel += members.addTo(acc, b, loss, i, fraction)
            val tf = System.nanoTime()
            val m = NativeKernels.sweepAccFinishMessage(acc)
            encoding += System.nanoTime() - tf
            m
          } finally NativeKernels.sweepAccFree(acc)
          val te = System.nanoTime()
          val all = gatherBytes(exchange, message, chunkChars)
          exchanging += System.nanoTime() - te
          // Every task applies the same sums to the same states: an error here (an
          // overflow) is every task's, so all stop at this round and report it.
          try {
            val ta = System.nanoTime()
            NativeKernels.sgdApplyRound(active.map(hs), active.map(training), all)
            applying += System.nanoTime() - ta
            active = active.filter(k => !NativeKernels.sgdIsDone(hs(k)))
            val tr = System.nanoTime()
            NativeKernels.sweepWeightsRefresh(weights, active.map(hs), active)
            preparing += System.nanoTime() - tr
            round += 1
            if (ctx.partitionId() == 0) checkpoints.foreach(_.maybeWrite(round, hs.map(NativeKernels.sgdSave)))
          } catch {
            case e: IllegalArgumentException => error = e
            case e: PawsNativeException => error = e
          }
        }
        kernelNanos.add(kernel)
        exchangeNanos.add(exchanging)
        val took = System.nanoTime() - start
        taskNanos.add(took)
        // Per task (the sums above hide it): a task that waits at the exchange far longer
        // than the others holds less of the work.
        log.info(f"paws SGD: barrier task ${ctx.partitionId()}: ${local.length} blocks, ${round - round0} rounds " +
          f"in ${took / 1e9}%.3f s: kernel ${kernel / 1e9}%.3f s, waiting for and exchanging sums " +
          f"${exchanging / 1e9}%.3f s, weights ${preparing / 1e9}%.3f s, encoding ${encoding / 1e9}%.3f s, " +
          f"applying ${applying / 1e9}%.3f s")
        val (task, tasks) = (ctx.partitionId(), ctx.numPartitions())
        if (error == null) {
          val share = hs.indices.filter(_ % tasks == task).map(k => (k, NativeKernels.sgdSave(hs(k)))).toArray
          outcomes.add((ctx.stageAttemptNumber(), Outcome(share, null, null)))
        } else if (task == 0) {
          outcomes.add((ctx.stageAttemptNumber(), Outcome(null, error.getClass.getName, error.getMessage)))
        }
        Iterator.empty: Iterator[Unit]
      }
      // A map stage, so that Spark retries it as a whole when a task fails
      // (spark.stage.maxConsecutiveAttempts; it aborts a failed barrier ResultStage
      // outright), and a job of that stage alone: a result stage after it cost about 80 ms.
      SchedulerAccess.runAsMapStage(stage)
    } finally {
      initial.destroy()
    }
    timings.passNanos += System.nanoTime() - t0
    val states = finalStates(outcomes.value.asScala.toSeq, training.length)
    // The driver's states become the tasks' (the same bits as if it had applied each round).
    val before = NativeKernels.sgdIteration(sgds(training.head))
    for ((j, state) <- training.zip(states)) NativeKernels.sgdRestore(sgds(j), state)
    timings.passes += training.map(j => NativeKernels.sgdIteration(sgds(j))).max - before
  }
}

/**
 * Checkpoints of a barrier run's SGD states, under `dir/paws-sgd-<id>/` on any Hadoop
 * file system: `round-<n>.bin`, the number of states then each `sgdSave` state (an int
 * of its length, then its bytes), written atomically
 * (temporary file, then rename) every `interval` rounds, but no sooner than `minSeconds`
 * after the stage's first round or the previous checkpoint: saving every model's state
 * costs about as much as a round of a large sweep, so a run shorter than `minSeconds`
 * (a retry of which loses little) never pays for one. Nor sooner than `costFactor`
 * ([[SgdCheckpoints.CostFactor]]) times the previous checkpoint's own time after it:
 * the other tasks wait at the next round while the first one writes, and W3's 666 pairs
 * (about 1.5 s a checkpoint, one every 10 s) spent a fifth of their barrier stage on
 * checkpoints; now at most about a twentieth, whatever the sweep's size. The driver
 * deletes the folder at the end. Without a shared file system (file:// on a multi-host cluster) tasks see
 * different checkpoints and a retried stage starts over: correct, only slower.
 */
private[spark] final class SgdCheckpoints(
    dir: String,
    interval: Int,
    minSeconds: Double,
    costFactor: Int,
    conf: Broadcast[SerializableWritable[Configuration]])
  extends Serializable {

  /** When the writing task last wrote (or saw its first round), on its own clock. */
  @transient private var lastWrite: Long = 0L
  /** How long the last write took (ns). */
  @transient private var lastCost: Long = 0L

  private def fs(p: Path): FileSystem = p.getFileSystem(conf.value.value)
  private def file(round: Int): Path = new Path(dir, f"round-$round%06d.bin")

  /** The newest checkpoint's round, if any. */
  def newest(): Option[Int] = {
    val d = new Path(dir)
    if (!fs(d).exists(d)) return None
    val rounds = fs(d).listStatus(d).map(_.getPath.getName).collect {
      case SgdCheckpoints.Name(n) => n.toInt
    }
    if (rounds.isEmpty) None else Some(rounds.max)
  }

  def read(round: Int): Array[Array[Byte]] = {
    val p = file(round)
    val in = new java.io.DataInputStream(new java.io.BufferedInputStream(fs(p).open(p), 1 << 20))
    try {
      def count(what: String): Int = {
        val n = in.readInt()
        if (n < 0) throw new java.io.IOException(s"paws: the SGD checkpoint $p is damaged: $what $n")
        n
      }
      Array.fill(count("states")) {
        val state = new Array[Byte](count("state length"))
        in.readFully(state)
        state
      }
    } catch {
      case e: java.io.EOFException =>
        throw new java.io.IOException(s"paws: the SGD checkpoint $p ends inside a state", e)
    } finally in.close()
  }

  def maybeWrite(round: Int, states: => Array[Array[Byte]]): Unit = {
    val now = System.nanoTime()
    if (lastWrite == 0L) lastWrite = now
    val gap = math.max(minSeconds * 1e9, costFactor.toDouble * lastCost)
    if (interval <= 0 || round % interval != 0 || (now - lastWrite) < gap) return
    val p = file(round)
    val tmp = new Path(dir, s".${p.getName}.${UUID.randomUUID()}.tmp")
    val all = states
    val out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(fs(tmp).create(tmp, true), 1 << 20))
    try {
      out.writeInt(all.length)
      for (state <- all) { out.writeInt(state.length); out.write(state) }
    } finally out.close()
    if (!fs(p).rename(tmp, p)) {
      fs(tmp).delete(tmp, false)
      throw new java.io.IOException(s"paws: could not rename the SGD checkpoint $tmp to $p")
    }
    lastWrite = System.nanoTime()
    lastCost = lastWrite - now
  }

  def delete(): Unit = {
    val d = new Path(dir)
    fs(d).delete(d, true)
  }
}

private[spark] object SgdCheckpoints {
  private val Name = """round-(\d+)\.bin""".r

  /** A checkpoint waits at least this many times the previous one's own time. */
  val CostFactor = 20

  /**
   * Checkpoints under `base` (a folder every executor can read: HDFS on EMR), or None
   * when `interval` is 0.
   */
  def create(
      sc: SparkContext,
      base: String,
      interval: Int,
      minSeconds: Double,
      costFactor: Int = CostFactor): Option[SgdCheckpoints] =
    if (interval <= 0) None
    else {
      require(minSeconds >= 0, s"the checkpoints' minimum seconds must be >= 0, got $minSeconds")
      val conf = sc.broadcast(new SerializableWritable(sc.hadoopConfiguration))
      val dir = new Path(base, s"paws-sgd-${UUID.randomUUID()}").toString
      Some(new SgdCheckpoints(dir, interval, minSeconds, costFactor, conf))
    }
}
