package dev.paws.spark

import java.io.File
import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Path => JPath, Paths}
import java.util.concurrent.TimeUnit

import org.junit.jupiter.api.Assertions._

/**
 * The `paws` command line as an independent reference for the Spark engine: the binary
 * from `-Dpaws.cli=/path/to/paws`, else
 * the first built of `<target>/x86_64-unknown-linux-gnu/release/paws` (the scripts'
 * target, see scripts/lib.sh) and `<target>/release/paws` (a plain `cargo build`), with
 * `<target>` `$CARGO_TARGET_DIR` or `../target` (`-Dpaws.cli=none`: none), run from the
 * repository root.
 */
object TestCli {
  val repo: JPath = Paths.get(System.getProperty("user.dir")).getParent

  /** The `paws` binary, if one is built. */
  def binary: Option[File] = {
    val prop = System.getProperty("paws.cli", "")
    if (prop == "none") return None
    val candidates = (if (prop.nonEmpty) Seq(prop) else Nil) ++
      (sys.env.get("CARGO_TARGET_DIR").toSeq :+ repo.resolve("target").toString).flatMap { d =>
        Seq(s"$d/x86_64-unknown-linux-gnu/release/paws", s"$d/release/paws")
      }
    candidates.map(new File(_)).find(f => f.isFile && f.canExecute)
  }

  /** Runs `paws args…`, asserting exit code 0; None without a binary. */
  def run(args: Seq[String]): Option[Unit] = binary.map { bin =>
    val log = Files.createTempFile(Paths.get(System.getProperty("java.io.tmpdir")), "paws-cli", ".log")
    val cmd = bin.getPath +: args
    val p = new ProcessBuilder(cmd: _*).directory(repo.toFile).redirectErrorStream(true)
      .redirectOutput(log.toFile).start()
    assertTrue(p.waitFor(600, TimeUnit.SECONDS), s"paws ${args.headOption.getOrElse("")} finished")
    assertEquals(0, p.exitValue(),
      s"${cmd.mkString(" ")}:\n${new String(Files.readAllBytes(log), StandardCharsets.UTF_8)}")
    println(s"CLI ${bin.getPath} (built ${java.time.Instant.ofEpochMilli(bin.lastModified())}) ran: " +
      args.mkString(" "))
  }
}
