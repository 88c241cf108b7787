package dev.paws.spark

import java.io.{File, IOException}
import java.nio.file.{Path => JPath}
import java.util.UUID

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.{FileSystem, LocalFileSystem, Path => HPath}

/**
 * Writing a run's files to a Hadoop path (`file:`, `hdfs:`, `s3a:`, `s3:` on EMR) from a
 * local folder where the native library wrote them: each file whole or absent.
 */
private[spark] object HadoopOutput {
  /** The file system to write `p` with: for `file:`, the raw one (no .crc side files). */
  def fileSystem(conf: Configuration, p: HPath): FileSystem = p.getFileSystem(conf) match {
    case l: LocalFileSystem => l.getRawFileSystem
    case fs => fs
  }

  /**
   * Copies `files` (relative paths under the local folder `local`) to the Hadoop folder
   * `out`, each under a temporary name in its destination folder, then renamed over the
   * old file: a reader never sees half a file (on S3 a rename is a copy, still whole).
   * Returns `out`, qualified.
   */
  def publish(conf: Configuration, local: JPath, files: Seq[String], out: String): String = {
    val base = new HPath(out)
    val fs = fileSystem(conf, base)
    val dir = fs.makeQualified(base)
    fs.mkdirs(dir)
    for (rel <- files) {
      val dst = new HPath(dir, rel)
      fs.mkdirs(dst.getParent)
      val tmp = new HPath(dst.getParent, s".${dst.getName}.paws-${UUID.randomUUID()}.tmp")
      fs.copyFromLocalFile(false, true, new HPath(local.resolve(rel).toUri), tmp)
      if (fs.exists(dst) && !fs.delete(dst, false)) throw new IOException(s"cannot replace $dst")
      if (!fs.rename(tmp, dst)) {
        fs.delete(tmp, false)
        throw new IOException(s"cannot rename $tmp to $dst")
      }
    }
    dir.toString
  }

  def deleteRecursively(f: File): Unit = {
    Option(f.listFiles()).foreach(_.foreach(deleteRecursively))
    f.delete()
  }
}
