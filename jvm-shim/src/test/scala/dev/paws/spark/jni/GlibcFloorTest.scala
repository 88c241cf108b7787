package dev.paws.spark.jni

import java.io.File
import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Path, Paths}
import java.util.concurrent.TimeUnit

import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.Test

/**
 * The library the jar ships needs no glibc symbol newer than `paws.glibc.max` (2.26:
 * Amazon Linux 2, so EMR 6; EMR 7's AL2023 has 2.34). A plain `cargo build` on a recent
 * distribution gives GLIBC_2.34 and fails here; scripts/build-native.sh (cargo zigbuild
 * against glibc 2.17) passes.
 */
class GlibcFloorTest {

  private def version(v: String): Seq[Int] = v.split('.').toSeq.map(_.toInt)

  private def newer(a: Seq[Int], b: Seq[Int]): Boolean =
    a.zipAll(b, 0, 0).find { case (x, y) => x != y }.exists { case (x, y) => x > y }

  /** Every GLIBC_x.y the dynamic symbols need, from `objdump -T`; None without objdump. */
  private def objdumpVersions(lib: Path): Option[Seq[String]] = {
    val out = File.createTempFile("paws-objdump", ".txt")
    try {
      val p = new ProcessBuilder("objdump", "-T", lib.toString)
        .redirectErrorStream(true).redirectOutput(out).start()
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "objdump finished")
      if (p.exitValue() != 0) return None
      val text = new String(Files.readAllBytes(out.toPath), StandardCharsets.UTF_8)
      Some("GLIBC_([0-9.]+)".r.findAllMatchIn(text).map(_.group(1)).toSeq.distinct)
    } catch {
      case _: java.io.IOException => None // no objdump on this machine
    } finally {
      out.delete()
    }
  }

  @Test
  def bundledLibraryLoadsOnAmazonLinux2(): Unit = {
    val max = System.getProperty("paws.glibc.max", "2.26")
    val url = getClass.getClassLoader.getResource(NativeLoader.resourceName())
    assertNotNull(url, s"the jar resource ${NativeLoader.resourceName()} is missing")
    assertEquals("file", url.getProtocol, s"expected the resource in target/classes, got $url")
    val lib = Paths.get(url.toURI)
    val (floor, how) = objdumpVersions(lib) match {
      case Some(vs) =>
        (vs.reduceOption((a, b) => if (newer(version(a), version(b))) a else b), "objdump -T")
      case None =>
        // Without binutils: the newest GLIBC_x.y string in the file, an upper bound.
        (Option(NativeLoader.requiredGlibc(lib)).map(_.stripPrefix("GLIBC_")), "a string scan")
    }
    println(s"NATIVE glibc floor of the bundled library ($how): " +
      s"${floor.map("GLIBC_" + _).getOrElse("none")} (limit GLIBC_$max)")
    floor.foreach { f =>
      assertFalse(newer(version(f), version(max)),
        s"the bundled $lib needs GLIBC_$f, newer than GLIBC_$max: it would not load on " +
          "EMR 6 (Amazon Linux 2). Build it with scripts/build-native.sh (cargo zigbuild).")
    }
  }
}
