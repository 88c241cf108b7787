package dev.paws.spark

import dev.paws.spark.jni.{NativeKernels, PawsNativeException}
import java.io.IOException

import org.apache.spark.SparkException
import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.function.Executable

/** Rust panics and errors come out as Java exceptions; the JVM and Spark live on. */
class NativeFailureTest {
  import TestSpark._

  private def exec(f: => Unit): Executable = new Executable { def execute(): Unit = f }

  private def causes(t: Throwable): List[Throwable] =
    if (t == null) Nil else t :: causes(t.getCause)

  @Test
  def panicBecomesPawsNativeException(): Unit = {
    val e = assertThrows(classOf[PawsNativeException], exec(NativeKernels.debugPanic("boom 42")))
    assertTrue(e.getMessage.contains("boom 42"), e.getMessage)
    assertTrue(e.getMessage.contains("Rust panic at"), e.getMessage)
    assertTrue(e.getMessage.contains(".rs:"), s"names the source location: ${e.getMessage}")
    // Many panics in a row: nothing leaks, nothing breaks.
    for (i <- 0 until 50) {
      val m = assertThrows(classOf[PawsNativeException], exec(NativeKernels.debugPanic(s"n$i")))
      assertTrue(m.getMessage.endsWith(s": n$i"), m.getMessage)
    }
    assertTrue(NativeKernels.nativeVersion().startsWith("paws-jni "))
    // debugPanic's panics are expected: the library does not log them, the test says so.
    println("PANIC 51 debugPanic panics caught as PawsNativeException, as expected")
  }

  @Test
  def rustErrorsMapToJavaExceptions(): Unit = {
    val a = assertThrows(classOf[IllegalArgumentException],
      exec(NativeKernels.debugError("invalid", "bad thing")))
    assertTrue(a.getMessage.contains("bad thing"), a.getMessage)
    val io = assertThrows(classOf[IOException], exec(NativeKernels.debugError("io", "no file")))
    assertTrue(io.getMessage.contains("no file"), io.getMessage)
    val n = assertThrows(classOf[PawsNativeException],
      exec(NativeKernels.debugError("overflow", "too big")))
    assertTrue(n.getMessage.contains("too big"), n.getMessage)
    assertThrows(classOf[IllegalArgumentException], exec(NativeKernels.debugError(null, "x")))
  }

  @Test
  def panicInsideAnExecutorTaskFailsTheJobNotTheExecutor(): Unit = {
    val e = assertThrows(classOf[SparkException], exec {
      sc.parallelize(1 to 4, 2).map { i =>
        if (i == 3) NativeKernels.debugPanic(s"executor boom $i")
        i
      }.collect()
    })
    val all = causes(e)
    assertTrue(all.exists(c => c.isInstanceOf[PawsNativeException] ||
      String.valueOf(c.getMessage).contains("PawsNativeException")), e.toString)
    assertTrue(all.exists(c => String.valueOf(c.getMessage).contains("executor boom 3")), e.toString)

    val err = assertThrows(classOf[SparkException], exec {
      sc.parallelize(1 to 4, 2).foreach(i => if (i == 2) NativeKernels.debugError("invalid", "task error"))
    })
    assertTrue(causes(err).exists(c => String.valueOf(c.getMessage).contains("task error")),
      err.toString)

    // The executor (this JVM in local mode) still runs jobs, native ones included.
    assertEquals(5050L, sc.parallelize(1L to 100L, 2).reduce(_ + _))
    val m = NativeSVMWithSGD.train(rdd(points(300, 8, 3), 2), 10)
    assertEquals(8, m.weights.size)
    assertTrue(m.weights.toArray.forall(w => !w.isNaN))
    println("PANIC executor task panic caught as PawsNativeException (job failed, executor lives), as expected")
  }
}
