package dev.paws.spark

import java.util.Optional

import org.junit.jupiter.api.extension.{ExtensionContext, TestWatcher}

/** Prints `SKIPPED: <test>: <reason>` for every test an assumption aborts or `@Disabled`
  * turns off, so that the reason shows in the Maven output (Surefire only counts skips).
  * Registered for all tests by autodetection (junit-platform.properties and
  * META-INF/services/org.junit.jupiter.api.extension.Extension). */
class SkipReport extends TestWatcher {
  private def name(c: ExtensionContext): String =
    s"${c.getRequiredTestClass.getSimpleName}.${c.getDisplayName.stripSuffix("()")}"

  override def testAborted(c: ExtensionContext, cause: Throwable): Unit =
    println(s"SKIPPED: ${name(c)}: ${cause.getMessage.stripPrefix("Assumption failed: ")}")

  override def testDisabled(c: ExtensionContext, reason: Optional[String]): Unit =
    println(s"SKIPPED: ${name(c)}: ${reason.orElse("@Disabled")}")
}
