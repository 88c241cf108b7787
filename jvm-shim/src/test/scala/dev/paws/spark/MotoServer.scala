package dev.paws.spark

import java.io.IOException
import java.net.{InetSocketAddress, ServerSocket, Socket}
import java.util.concurrent.TimeUnit

import org.apache.hadoop.conf.Configuration
import org.junit.jupiter.api.Assumptions

/**
 * moto's S3 server on 127.0.0.1, the JVM tests' twin of `paws_testkit::moto`.
 * scripts/test.sh installs `moto[server]` from PyPI and sets `PAWS_MOTO_SERVER` (the
 * `moto_server` script) and `PAWS_REQUIRE_MOTO=1`. Without them, `start` skips the test
 * with a message (a user's clone without moto); with `PAWS_REQUIRE_MOTO=1`, a server that
 * cannot start fails it.
 */
final class MotoServer private (process: Process, val port: Int) extends AutoCloseable {
  val endpoint: String = s"http://127.0.0.1:$port"

  /** The S3A settings that point Hadoop at this server (path-style, plain HTTP, test keys). */
  def configure(conf: Configuration): Unit = {
    conf.set("fs.s3a.endpoint", endpoint)
    conf.set("fs.s3a.endpoint.region", "us-east-1")
    conf.set("fs.s3a.path.style.access", "true")
    conf.set("fs.s3a.connection.ssl.enabled", "false")
    conf.set("fs.s3a.access.key", "testing")
    conf.set("fs.s3a.secret.key", "testing")
    conf.set("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider")
    // A test must not hang for S3A's default 20 attempts when something is wrong.
    conf.set("fs.s3a.attempts.maximum", "2")
    conf.set("fs.s3a.retry.limit", "2")
  }

  /** Creates a bucket (moto does not check signatures, so a plain PUT is enough). */
  def createBucket(name: String): Unit = {
    val c = new java.net.URL(s"$endpoint/$name").openConnection().asInstanceOf[java.net.HttpURLConnection]
    c.setRequestMethod("PUT")
    c.setConnectTimeout(5000)
    c.setReadTimeout(30000)
    val code = c.getResponseCode
    if (code != 200) throw new IOException(s"moto: PUT bucket $name answered $code")
    c.disconnect()
  }

  override def close(): Unit = {
    process.destroy()
    if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly()
  }
}

object MotoServer {
  private def freePort(): Int = {
    val s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))
    try s.getLocalPort finally s.close()
  }

  private def answers(port: Int): Boolean = {
    val s = new Socket()
    try { s.connect(new InetSocketAddress("127.0.0.1", port), 200); true }
    catch { case _: IOException => false }
    finally s.close()
  }

  /** A running server, or the test is skipped (moto not installed, not required). */
  def start(test: String): MotoServer = {
    val server = sys.env.getOrElse("PAWS_MOTO_SERVER", "moto_server")
    val required = sys.env.get("PAWS_REQUIRE_MOTO").contains("1")
    val port = freePort()
    val process =
      try new ProcessBuilder(server, "-H", "127.0.0.1", "-p", port.toString)
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
      catch {
        case e: IOException =>
          if (required) throw new IllegalStateException(s"PAWS_REQUIRE_MOTO=1 but $server cannot be started: $e")
          Assumptions.abort[Unit](s"$test: no moto server ($server: ${e.getMessage}); " +
            "pip install 'moto[server]' or set PAWS_MOTO_SERVER (scripts/test.sh does)")
          throw e // not reached: abort throws
      }
    val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60)
    while (!answers(port)) {
      if (!process.isAlive || System.nanoTime() > deadline) {
        process.destroyForcibly()
        throw new IllegalStateException(s"moto ($server) did not start on port $port")
      }
      Thread.sleep(100)
    }
    new MotoServer(process, port)
  }
}
