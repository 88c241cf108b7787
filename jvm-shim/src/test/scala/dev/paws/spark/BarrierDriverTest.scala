package dev.paws.spark

import dev.paws.spark.jni.NativeKernels
import scala.collection.mutable.ArrayBuffer

import org.apache.spark.SparkException
import org.apache.spark.scheduler.{SparkListener, SparkListenerJobStart}
import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.function.Executable

/**
 * The barrier driver (one Spark stage for a whole SGD run) against the per-job driver:
 * the same bits, one job instead of one per iteration, and the choice between them.
 * That the per-job driver matches MLlib is ParityTest's check, and that the sweep's
 * models are the CLI's bit for bit is PetBreedExperimentTest's (through this driver).
 */
class BarrierDriverTest {
  import TestSpark._

  // 2 partitions of 300 rows on local[2]: chunk 1 (rows 256..511) straddles them.
  private val data = points(600, 40, seed = 11)
  private val input = rdd(data, 2)

  private def withDriver[T](name: String)(body: => T): T = {
    sc.setLocalProperty(SgdDriver.DriverConf, name)
    try body
    finally sc.setLocalProperty(SgdDriver.DriverConf, null)
  }

  /** Descriptions of the jobs `body` started. */
  private def jobsOf(body: => Unit): List[String] = {
    val descriptions = ArrayBuffer[String]()
    val listener = new SparkListener {
      override def onJobStart(e: SparkListenerJobStart): Unit = descriptions.synchronized {
        descriptions += Option(e.properties).map(_.getProperty("spark.job.description")).orNull
      }
    }
    sc.addSparkListener(listener)
    try {
      body
      // Listener events arrive asynchronously, in order: wait for a marker job's.
      sc.setJobDescription("marker")
      try sc.parallelize(1 to 1, 1).count()
      finally sc.setJobDescription(null)
      val deadline = System.nanoTime() + 10000000000L
      while (!descriptions.synchronized(descriptions.contains("marker")) && System.nanoTime() < deadline) {
        Thread.sleep(10)
      }
    } finally sc.removeSparkListener(listener)
    descriptions.synchronized(descriptions.toList).filter(d => d != null && d.startsWith("paws:"))
  }

  private def bits(s: NativeTrainingSummary): Seq[Long] =
    (s.weights.toArray ++ Array(s.intercept) ++ s.lossHistory).map(java.lang.Double.doubleToRawLongBits).toSeq

  @Test
  def sameBitsAsThePerJobDriver(): Unit = {
    val cases = for {
      loss <- Seq("SVM", "logistic")
      fraction <- Seq(1.0, 0.4)
      intercept <- Seq(true, false)
    } yield (loss, fraction, intercept, 0.001)
    // And a run that converges early (a model dropping out before the last iteration).
    for ((loss, fraction, intercept, tol) <- cases :+ (("SVM", 1.0, true, 0.05))) {
      def train(driver: String): NativeTrainingSummary = withDriver(driver) {
        val alg =
          if (loss == "SVM") new NativeSVMWithSGD(1.0, 25, 0.01, fraction)
          else new NativeLogisticRegressionWithSGD(1.0, 25, 0.01, fraction)
        alg.setIntercept(intercept).setConvergenceTol(tol).runWithSummary(input, null)
      }
      val what = s"$loss fraction $fraction intercept $intercept tol $tol"
      val jobs = train("jobs")
      val barrier = train("barrier")
      assertEquals(bits(jobs), bits(barrier), what)
      assertEquals((jobs.passes, jobs.updates, jobs.converged),
        (barrier.passes, barrier.updates, barrier.converged), what)
      if (tol == 0.05) assertTrue(jobs.converged && jobs.passes < 25, s"$what converges early: $jobs")
    }
    assertEquals(0, NativeKernels.sgdLiveHandles(), "SGD states freed")
  }

  @Test
  def sumsExchangedInManySmallPiecesGiveTheSameBits(): Unit = {
    // 40 features: a message of about 340 bytes per task, in pieces of 64.
    def train(driver: String): NativeTrainingSummary = withDriver(driver) {
      new NativeLogisticRegressionWithSGD(1.0, 15, 0.01, 0.7).setIntercept(true).runWithSummary(input, null)
    }
    sc.setLocalProperty(BarrierSgd.ExchangeChunkConf, "64")
    val pieces = try train("barrier") finally sc.setLocalProperty(BarrierSgd.ExchangeChunkConf, null)
    assertEquals(bits(train("jobs")), bits(pieces))
  }

  @Test
  def oneJobForAWholeRun(): Unit = {
    val barrier = jobsOf(withDriver("barrier")(NativeSVMWithSGD.train(input, 30, 1.0, 0.01, 1.0)))
    val training = barrier.filter(_.contains("iteration"))
    assertEquals(List("paws: SVM iteration 1/30 (all iterations, one barrier stage)"), training,
      barrier.mkString("\n"))
    val perJob = jobsOf(withDriver("jobs")(NativeSVMWithSGD.train(input, 30, 1.0, 0.01, 1.0)))
    assertEquals(31, perJob.count(_.contains("iteration")), perJob.mkString("\n"))
    // auto picks the barrier driver for 2 partitions on 2 slots.
    val auto = jobsOf(NativeSVMWithSGD.train(input, 30, 1.0, 0.01, 1.0))
    assertEquals(training, auto.filter(_.contains("iteration")), auto.mkString("\n"))
  }

  @Test
  def aCancelledOrInterruptedRunStopsItsStage(): Unit = {
    // Runs far longer than the test (convergence off), stopped once through their job
    // group (a notebook paragraph's cancel) and once by interrupting the calling thread.
    for (how <- Seq("cancel", "interrupt")) {
      val group = s"paws-test-$how"
      @volatile var error: Throwable = null
      val caller = new Thread(new Runnable {
        def run(): Unit = {
          sc.setJobGroup(group, how, interruptOnCancel = true)
          try withDriver("barrier")(new NativeSVMWithSGD(1.0, 10000000, 0.01, 1.0).setConvergenceTol(0.0).run(input))
          catch { case e: Throwable => error = e }
          finally sc.clearJobGroup()
        }
      })
      caller.start()
      def barrierStageRunning = sc.statusTracker.getActiveStageIds.exists { id =>
        sc.statusTracker.getStageInfo(id).exists(s => s.name.contains("SchedulerAccess") && s.numActiveTasks == 2)
      }
      def groupRunning = sc.statusTracker.getJobIdsForGroup(group).exists { id =>
        sc.statusTracker.getJobInfo(id).exists(_.status == org.apache.spark.JobExecutionStatus.RUNNING)
      }
      assertTrue(waitFor(60)(barrierStageRunning), s"$how: the barrier stage started")
      Thread.sleep(300)
      if (how == "cancel") sc.cancelJobGroup(group) else caller.interrupt()
      caller.join(30000)
      assertFalse(caller.isAlive, s"$how: train returned")
      error match {
        case e: SparkException if how == "cancel" => assertTrue(e.getMessage.contains("cancelled"), e.getMessage)
        case _: InterruptedException if how == "interrupt" =>
        case other => fail(s"$how: unexpected outcome", other)
      }
      assertTrue(waitFor(30)(!groupRunning), s"$how: the group's jobs stopped")
    }
    assertTrue(waitFor(30)(NativeKernels.sgdLiveHandles() == 0), "the tasks' SGD states freed")
    // The context trains on.
    assertEquals(40, NativeSVMWithSGD.train(input, 5, 1.0, 0.01, 1.0).weights.size)
  }

  /** Whether `condition` holds within `seconds`. */
  private def waitFor(seconds: Int)(condition: => Boolean): Boolean = {
    val deadline = System.nanoTime() + seconds * 1000000000L
    while (!condition && System.nanoTime() < deadline) Thread.sleep(20)
    condition
  }

  @Test
  def morePartitionsThanSlotsFallBackToThePerJobDriver(): Unit = {
    val three = rdd(data, 3)
    try {
      val auto = jobsOf(NativeSVMWithSGD.train(three, 10, 1.0, 0.01, 1.0))
      assertEquals(11, auto.count(_.contains("iteration")), auto.mkString("\n"))
      val e = assertThrows(classOf[IllegalArgumentException], new Executable {
        def execute(): Unit = withDriver("barrier")(NativeSVMWithSGD.train(three, 10, 1.0, 0.01, 1.0))
      })
      assertTrue(e.getMessage.contains("3 partitions, more than the 2 task slots"), e.getMessage)
    } finally three.unpersist()
  }

  @Test
  def theChoiceAndItsReasons(): Unit = {
    import SgdDriver.decide
    assertTrue(decide("auto", dynamic = false, slots = 4, partitions = 4).barrier)
    assertTrue(decide(" Barrier ", dynamic = false, slots = 8, partitions = 2).barrier)
    val dyn = decide("auto", dynamic = true, slots = 4, partitions = 2)
    assertFalse(dyn.barrier)
    assertTrue(dyn.why.contains("spark.dynamicAllocation.enabled=true"), dyn.why)
    val many = decide("auto", dynamic = false, slots = 2, partitions = 5)
    assertFalse(many.barrier)
    assertTrue(many.why.contains("5 partitions, more than the 2 task slots"), many.why)
    assertFalse(decide("auto", dynamic = false, slots = 0, partitions = 1).barrier, "no executors yet")
    assertFalse(decide("jobs", dynamic = false, slots = 4, partitions = 4).barrier)
    def refused(setting: String, dynamic: Boolean) = assertThrows(classOf[IllegalArgumentException],
      new Executable { def execute(): Unit = decide(setting, dynamic, 4, 2) }).getMessage
    assertTrue(refused("barrier", dynamic = true).contains("barrier mode cannot run"))
    assertTrue(refused("fast", dynamic = false).contains("must be auto, barrier or jobs, got 'fast'"))
  }

  @Test
  def theFinalStatesAreTheNewestAttemptsShares(): Unit = {
    import BarrierSgd.{finalStates, Outcome}
    def share(models: Int*) = Outcome(models.map(k => (k, Array(k.toByte))).toArray, null, null)
    def states(outcomes: (Int, Outcome)*) = finalStates(outcomes, 3).map(_.toSeq).toSeq
    // Two tasks share three models (k % 2); a task of a failed first attempt reported too.
    assertEquals(Seq(Seq[Byte](0), Seq[Byte](1), Seq[Byte](2)),
      states(1 -> share(1), 0 -> share(0, 2), 1 -> share(0, 2)))
    val old = Outcome(Array((1, Array[Byte](9))), null, null)
    val missing = assertThrows(classOf[IllegalStateException],
      new Executable { def execute(): Unit = states(0 -> old, 1 -> share(0, 2)) }).getMessage
    assertTrue(missing.contains("(attempt 1) returned no state for 1 of 3 models (the first: model 1)"), missing)
    val failed = assertThrows(classOf[IllegalArgumentException], new Executable {
      def execute(): Unit = states(1 -> share(1), 1 -> Outcome(null, "java.lang.IllegalArgumentException", "boom"))
    }).getMessage
    assertEquals("boom", failed)
    assertThrows(classOf[IllegalStateException], new Executable { def execute(): Unit = states() })
  }

  @Test
  def checkpointsRoundTripAndTheNewestIsFound(): Unit = {
    val dir = java.nio.file.Files.createTempDirectory("paws-ckpt").toUri.toString
    val ck = SgdCheckpoints.create(sc, dir, interval = 5, minSeconds = 0, costFactor = 0).get
    try {
      assertEquals(None, ck.newest())
      ck.maybeWrite(3, fail("not a checkpoint round"))
      val states = Array(Array[Byte](1, -2, 3), Array.emptyByteArray, Array.tabulate[Byte](70000)(_.toByte))
      ck.maybeWrite(5, states)
      ck.maybeWrite(10, Array(Array[Byte](4)))
      assertEquals(Some(10), ck.newest())
      assertEquals(states.map(_.toSeq).toSeq, ck.read(5).map(_.toSeq).toSeq)
      // A file cut short (not one that paws writes: it renames whole files into place) is
      // named, not read as fewer states. Without its .crc file, as on an object store
      // (the local file system's checksum would name the file first).
      val file = java.nio.file.Files.walk(java.nio.file.Paths.get(new java.net.URI(dir)))
        .filter(_.getFileName.toString == "round-000005.bin").findFirst().get()
      val bytes = java.nio.file.Files.readAllBytes(file)
      java.nio.file.Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 10))
      java.nio.file.Files.deleteIfExists(file.resolveSibling(".round-000005.bin.crc"))
      val cut = assertThrows(classOf[java.io.IOException], new Executable { def execute(): Unit = ck.read(5) })
      assertTrue(cut.getMessage.contains("round-000005.bin ends inside a state"), cut.getMessage)
    } finally ck.delete()
    assertEquals(None, ck.newest(), "deleted")
    // No sooner than minSeconds after the first round seen, or after the previous one.
    val slow = SgdCheckpoints.create(sc, dir, interval = 5, minSeconds = 0.3).get
    try {
      slow.maybeWrite(5, fail("within 0.3 s of the first round"))
      Thread.sleep(400)
      slow.maybeWrite(10, Array(Array[Byte](4)))
      slow.maybeWrite(15, fail("within 0.3 s of the previous checkpoint"))
      assertEquals(Some(10), slow.newest())
    } finally slow.delete()
    // Nor sooner than costFactor times the previous checkpoint's own time after it: a
    // checkpoint that took at least 0.2 s keeps the next one 2 s away or more.
    val costly = SgdCheckpoints.create(sc, dir, interval = 5, minSeconds = 0, costFactor = 10).get
    try {
      costly.maybeWrite(5, { Thread.sleep(200); Array(Array[Byte](5)) })
      costly.maybeWrite(10, fail("within 10 times the previous checkpoint's 0.2 s"))
      assertEquals(Some(5), costly.newest())
    } finally costly.delete()
  }
}
