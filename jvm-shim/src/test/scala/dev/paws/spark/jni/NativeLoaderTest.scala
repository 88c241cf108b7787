package dev.paws.spark.jni

import java.io.File
import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Paths}
import java.util.concurrent.TimeUnit
import java.util.jar.{JarEntry, JarOutputStream}
import java.util.zip.CRC32

import org.junit.jupiter.api.Assertions._
import org.junit.jupiter.api.Test

/** The loader: the jar resource, an explicit path, and a failure that says why. */
class NativeLoaderTest {

  /** Our classes (and the library resource) only: the loader must work without Spark. */
  private val classes = Paths.get(classOf[NativeLoader].getProtectionDomain.getCodeSource.getLocation.toURI)

  private def runJava(props: String*): (Int, String) = runJavaWith(classes.toString, props: _*)

  private def runJavaWith(cp: String, props: String*): (Int, String) = {
    val java = Paths.get(System.getProperty("java.home"), "bin", "java").toString
    val cmd = Seq(java) ++ props ++ Seq("-cp", cp, "dev.paws.spark.jni.NativeInfo")
    val out = File.createTempFile("paws-native-info", ".txt")
    val p = new ProcessBuilder(cmd: _*).redirectErrorStream(true).redirectOutput(out).start()
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM finished")
    val text = new String(Files.readAllBytes(out.toPath), StandardCharsets.UTF_8)
    out.delete()
    (p.exitValue(), text)
  }

  @Test
  def loadsFromTheJarResource(): Unit = {
    NativeKernels.ensureLoaded()
    val from = NativeLoader.loadedFrom()
    assertNotNull(from)
    assertEquals("native/linux-x86_64/libpaws_jni.so", NativeLoader.resourceName())
    assertNotNull(getClass.getClassLoader.getResource(NativeLoader.resourceName()))
    if (System.getProperty(NativeLoader.LIB_PROPERTY) == null) {
      assertTrue(from.contains("paws-native-") && from.endsWith(".so"), from)
    }
    assertTrue(NativeLoader.glibcVersion().matches("\\d+\\.\\d+.*"), NativeLoader.glibcVersion())
    val needs = NativeLoader.requiredGlibc(Paths.get(from))
    assertTrue(needs != null && needs.startsWith("GLIBC_2."), String.valueOf(needs))
    println(s"NATIVE loaded from $from; glibc ${NativeLoader.glibcVersion()}; library needs $needs")
    // The bundled (shipped) library, whatever this JVM loaded: extracted from the
    // resource in a fresh JVM, its contract checked.
    val (code, out) = runJava()
    assertEquals(0, code, out)
    assertTrue(out.contains("loaded from: ") && out.contains("paws-native-"), out)
  }

  @Test
  def aJarsLibraryIsExtractedOnceAndRewrittenWhenItDiffers(): Unit = {
    // The bundled library in a jar of its own, ahead of the classes on the class path,
    // as a user's paws-spark jar holds it; a fresh temporary directory per test.
    val bytes = Files.readAllBytes(classes.resolve(NativeLoader.resourceName()))
    val tmp = Files.createTempDirectory("paws-loader-test")
    val jar = tmp.resolve("native.jar")
    val out = new JarOutputStream(Files.newOutputStream(jar))
    try {
      out.putNextEntry(new JarEntry(NativeLoader.resourceName()))
      out.write(bytes)
      out.closeEntry()
    } finally out.close()
    val crc = new CRC32()
    crc.update(bytes)
    val user = System.getProperty("user.name").replaceAll("[^A-Za-z0-9_.-]", "_")
    val lib = tmp.resolve(s"paws-native-$user").resolve(f"libpaws_jni-${crc.getValue}%08x-${bytes.length}.so")
    def load(): Unit = {
      val (code, text) = runJavaWith(s"$jar${File.pathSeparator}$classes", s"-Djava.io.tmpdir=$tmp")
      assertEquals(0, code, text)
      assertTrue(text.contains(s"loaded from: $lib"), text)
      assertArrayEquals(bytes, Files.readAllBytes(lib))
    }
    try {
      load()
      // A good copy is used as it is (not written again) ...
      val written = Files.getLastModifiedTime(lib)
      Thread.sleep(20)
      load()
      assertEquals(written, Files.getLastModifiedTime(lib))
      // ... and a copy of the same size with other bytes is rewritten.
      val bad = bytes.clone()
      bad(bad.length / 2) = (bad(bad.length / 2) ^ 0x5a).toByte
      Files.write(lib, bad)
      load()
    } finally {
      Files.walk(tmp).sorted(java.util.Comparator.reverseOrder()).forEach(p => Files.delete(p))
    }
  }

  @Test
  def explicitPathIsHonouredInAFreshJvm(): Unit = {
    NativeKernels.ensureLoaded()
    val lib = NativeLoader.loadedFrom()
    val (code, out) = runJava(s"-D${NativeLoader.LIB_PROPERTY}=$lib")
    assertEquals(0, code, out)
    assertTrue(out.contains(s"loaded from: $lib"), out)
    assertTrue(out.contains("version: paws-jni "), out)
  }

  @Test
  def failureNamesOsArchGlibcAndPath(): Unit = {
    val (code, out) = runJava(s"-D${NativeLoader.LIB_PROPERTY}=/nonexistent/libpaws_jni.so")
    assertEquals(1, code, out)
    for (part <- Seq("path tried: /nonexistent/libpaws_jni.so", "system property paws.native.lib",
        "os.name=Linux", "os.arch=amd64", "glibc=")) {
      assertTrue(out.contains(part), s"'$part' missing from: $out")
    }
    // A file that is not a library: the JVM's own error, with the same context.
    val junk = File.createTempFile("libjunk", ".so")
    Files.write(junk.toPath, "not an ELF file".getBytes(StandardCharsets.UTF_8))
    val (code2, out2) = runJava(s"-D${NativeLoader.LIB_PROPERTY}=${junk.getPath}")
    junk.delete()
    assertEquals(1, code2, out2)
    assertTrue(out2.contains(junk.getPath) && out2.contains("glibc="), out2)
  }
}
