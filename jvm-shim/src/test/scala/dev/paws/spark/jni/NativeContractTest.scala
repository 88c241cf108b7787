package dev.paws.spark.jni

import dev.paws.spark.{NativeLogisticRegressionWithSGD, NativeSVMWithSGD}
import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.function.Executable

/** The load-time handshake: the library's contract against the jar's expectations. */
class NativeContractTest {
  private val json =
    """{"version":"0.1.0","chunk_rows":256,"sum_words":{"per_dim":2,"constant":6},""" +
      """"loss":{"hinge":0,"logistic":1},"defaults":{"iterations":100,"step_size":1.0,""" +
      """"reg_param":0.01,"mini_batch_fraction":1.0,"convergence_tol":0.001,"updater":"l2",""" +
      """"intercept":false},"updaters":["l2","l1","none"],"updater_aliases":{"simple":"none"}}"""

  private def expected(chunk: Int = 256, perDim: Int = 2, constant: Int = 6, hinge: Int = 0, logistic: Int = 1) =
    new NativeContract.Expected("9.9.9-jar", chunk, perDim, constant, hinge, logistic)

  private def mismatch(e: NativeContract.Expected, expect: String*): Unit = {
    val x = assertThrows(classOf[IllegalStateException], new Executable {
      def execute(): Unit = NativeContract.check(e, json)
    })
    for (s <- Seq("paws-jni 0.1.0", "paws-spark 9.9.9-jar") ++ expect) {
      assertTrue(x.getMessage.contains(s), s"'${x.getMessage}' should contain '$s'")
    }
  }

  @Test
  def aWrongExpectationFailsNamingBothVersions(): Unit = {
    mismatch(expected(chunk = 512), "chunk_rows is 256 in the library, 512 in the jar")
    mismatch(expected(perDim = 3), "sum_words.per_dim is 2 in the library, 3 in the jar")
    mismatch(expected(constant = 4, logistic = 2), "sum_words.constant", "loss.logistic is 1 in the library, 2")
    mismatch(expected(hinge = 1), "loss.hinge")
    assertThrows(classOf[IllegalStateException], new Executable {
      def execute(): Unit = NativeContract.check(expected(), "{not json")
    })
  }

  @Test
  def defaultsAndUpdaterNamesComeFromTheContract(): Unit = {
    val c = NativeContract.check(expected(), json)
    assertEquals(0.01, c.defaultRegParam())
    assertEquals(1.0, c.defaultStepSize())
    assertEquals(100, c.defaultIterations())
    assertEquals("none", c.canonicalUpdater("simple"))
    assertEquals("none", c.canonicalUpdater("none"))
    assertEquals("l1", c.canonicalUpdater("L1"))
    assertThrows(classOf[IllegalArgumentException], new Executable {
      def execute(): Unit = c.canonicalUpdater("l3")
    })
  }

  @Test
  def theLoadedLibraryMatchesTheJar(): Unit = {
    val c = NativeContract.get()
    // The same check the loader made, again on the library's own JSON.
    NativeContract.check(NativeContract.Expected.JVM, NativeKernels.contract())
    assertTrue(NativeKernels.nativeVersion().contains(c.version()), s"${NativeKernels.nativeVersion()} vs ${c.version()}")
    val svm = new NativeSVMWithSGD()
    assertEquals(c.defaultRegParam(), svm.getRegParam)
    assertEquals(c.defaultStepSize(), svm.getStepSize)
    assertEquals(c.defaultMiniBatchFraction(), svm.getMiniBatchFraction)
    assertEquals(c.defaultConvergenceTol(), svm.getConvergenceTol)
    assertEquals(c.defaultUpdater(), svm.getUpdater)
    assertEquals("none", svm.setUpdater("simple").getUpdater)
    assertEquals("none", new NativeLogisticRegressionWithSGD().setUpdater("none").getUpdater)
  }
}
