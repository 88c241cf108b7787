package dev.paws.spark.jni;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;

/**
 * Loads the paws native library ({@code libpaws_jni.so}) once per JVM.
 *
 * <p>Where from, first match wins:
 *
 * <ol>
 *   <li>the system property {@code -Dpaws.native.lib=/path/libpaws_jni.so};
 *   <li>the Spark conf {@code spark.paws.native.lib} (read from {@code SparkEnv}, so it
 *       works on executors; a relative path, such as a {@code --files} entry on YARN, is
 *       resolved against the working directory);
 *   <li>the jar resource {@code native/<os>-<arch>/libpaws_jni.so}, extracted to a
 *       private directory ({@code <java.io.tmpdir>/paws-native-<user>}, mode 700, under
 *       a file lock so that several executors of one container extract it once) and named
 *       by its CRC-32 and size from the jar's directory (by its SHA-256 outside a jar), so
 *       different versions never overwrite each other; a copy already there is used when
 *       its bytes have that CRC-32, and rewritten otherwise.
 * </ol>
 *
 * <p>Once loaded, the library's contract is checked against this jar's
 * ({@link NativeContract}): a library of another contract is refused with an
 * {@link UnsatisfiedLinkError} naming both versions and what differs.
 *
 * <p>A failure throws {@link UnsatisfiedLinkError} naming the OS, the architecture, the
 * glibc version, the newest glibc symbol version the library needs, and the path tried.
 * Later calls rethrow the same error without trying again.
 */
public final class NativeLoader {
    public static final String LIB_PROPERTY = "paws.native.lib";
    public static final String SPARK_CONF_KEY = "spark.paws.native.lib";
    public static final String LIB_FILE = "libpaws_jni.so";

    private static String loadedFrom;
    private static String failure;
    private static boolean linking;

    private NativeLoader() {}

    /** Loads the library unless this JVM already has; rethrows an earlier failure. */
    public static synchronized void load() {
        if (loadedFrom != null || linking) {
            return;
        }
        if (failure != null) {
            throw new UnsatisfiedLinkError(failure);
        }
        String path = null;
        String how = null;
        try {
            String explicit = System.getProperty(LIB_PROPERTY);
            how = "system property " + LIB_PROPERTY;
            if (isBlank(explicit)) {
                explicit = sparkConf(SPARK_CONF_KEY);
                how = "Spark conf " + SPARK_CONF_KEY;
            }
            if (!isBlank(explicit)) {
                path = Paths.get(explicit.trim()).toAbsolutePath().normalize().toString();
                if (!Files.isRegularFile(Paths.get(path))) {
                    throw new IOException("no such file");
                }
            } else {
                how = "jar resource " + resourceName();
                path = extract();
            }
            System.load(path);
            // The contract check calls into the library, whose class initialisers call
            // load() again on this thread: they find it linked.
            linking = true;
            try {
                NativeContract.verifyLoadedLibrary();
            } finally {
                linking = false;
            }
            loadedFrom = path;
        } catch (IllegalStateException e) {
            failure = "paws: cannot use the native library at " + path + " (" + how + "): " + e.getMessage();
            UnsatisfiedLinkError u = new UnsatisfiedLinkError(failure);
            u.initCause(e);
            throw u;
        } catch (Throwable t) {
            failure = describeFailure(how, path, t);
            UnsatisfiedLinkError e = new UnsatisfiedLinkError(failure);
            e.initCause(t);
            throw e;
        }
    }

    /** The absolute path the library was loaded from, or null before a successful load. */
    public static synchronized String loadedFrom() {
        return loadedFrom;
    }

    /** {@code native/<os>-<arch>/libpaws_jni.so}, for example {@code native/linux-x86_64/...}. */
    public static String resourceName() {
        return "native/" + osName() + "-" + archName() + "/" + LIB_FILE;
    }

    static String osName() {
        String os = System.getProperty("os.name", "unknown").toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) {
            return "linux";
        } else if (os.startsWith("mac") || os.startsWith("darwin")) {
            return "darwin";
        } else if (os.startsWith("windows")) {
            return "windows";
        }
        return os.replaceAll("[^a-z0-9]", "");
    }

    static String archName() {
        String arch = System.getProperty("os.arch", "unknown").toLowerCase(Locale.ROOT);
        switch (arch) {
            case "amd64":
            case "x86_64":
            case "x64":
                return "x86_64";
            case "aarch64":
            case "arm64":
                return "aarch64";
            default:
                return arch.replaceAll("[^a-z0-9_]", "");
        }
    }

    private static boolean isBlank(String s) {
        return s == null || s.trim().isEmpty();
    }

    /** {@code SparkEnv.get().conf().get(key, null)} by reflection: Spark is optional here. */
    static String sparkConf(String key) {
        try {
            Class<?> envClass = Class.forName("org.apache.spark.SparkEnv");
            Object env = envClass.getMethod("get").invoke(null);
            if (env == null) {
                return null;
            }
            Object conf = envClass.getMethod("conf").invoke(env);
            Method get = conf.getClass().getMethod("get", String.class, String.class);
            return (String) get.invoke(conf, key, null);
        } catch (Throwable t) {
            return null;
        }
    }

    private static String extract() throws IOException {
        String resource = resourceName();
        URL url = NativeLoader.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IOException(
                    "the jar has no native library for this platform (resource "
                            + resource
                            + " not found); build paws-jni for it or set -D"
                            + LIB_PROPERTY
                            + "=");
        }
        JarEntry entry = jarEntry(url);
        return entry == null ? extractHashed(url) : extractFromJar(url, entry);
    }

    /**
     * The library of a jar, named by its entry's CRC-32 and size, which the jar's
     * directory holds: every JVM (the driver, each executor) used to inflate the 34 MB
     * library and hash it twice to find its name, 370 ms before any work (2026-12-04,
     * measured in a fresh JVM); now an extracted copy is checked by its CRC-32 (about
     * 20 ms) and the library is inflated only when it is missing or differs.
     */
    private static String extractFromJar(URL url, JarEntry entry) throws IOException {
        long crc = entry.getCrc();
        long size = entry.getSize();
        Path target = privateDirectory().resolve(String.format("libpaws_jni-%08x-%d.so", crc, size));
        return extractOnce(
                target,
                copy -> Files.size(copy) == size && crc32(copy) == crc,
                tmp -> {
                    CRC32 written = new CRC32();
                    // Into the temporary file as created (owner-only), not a new one.
                    try (InputStream in = new CheckedInputStream(url.openStream(), written);
                            OutputStream out = Files.newOutputStream(tmp)) {
                        in.transferTo(out);
                    }
                    if (written.getValue() != crc || Files.size(tmp) != size) {
                        throw new IOException(
                                "the jar's "
                                        + entry.getName()
                                        + " is corrupt: its bytes do not have the CRC-32 and size"
                                        + " that the jar's directory gives");
                    }
                });
    }

    /**
     * A library that is not in a jar (a classes directory, in tests): named by the
     * SHA-256 of its bytes.
     */
    private static String extractHashed(URL url) throws IOException {
        byte[] bytes;
        try (InputStream in = url.openStream()) {
            bytes = in.readAllBytes();
        }
        String hash = sha256(bytes).substring(0, 16);
        Path target = privateDirectory().resolve("libpaws_jni-" + hash + ".so");
        return extractOnce(
                target,
                copy -> Files.size(copy) == bytes.length && sha256(Files.readAllBytes(copy)).startsWith(hash),
                tmp -> Files.write(tmp, bytes));
    }

    /** A check of a file that may fail to read it. */
    private interface FileCheck {
        boolean test(Path file) throws IOException;
    }

    /** Fills a file (not java.io's FileWriter). */
    private interface FileFill {
        void write(Path file) throws IOException;
    }

    /**
     * {@code target} (in the private directory) as it is when it passes {@code good};
     * otherwise written by {@code write} to a temporary file there, renamed to it. Under
     * the directory's lock, so that several executors of one container extract it once.
     */
    private static String extractOnce(Path target, FileCheck good, FileFill write) throws IOException {
        Path dir = target.getParent();
        try (FileChannel ch =
                        FileChannel.open(
                                dir.resolve(".lock"),
                                StandardOpenOption.CREATE,
                                StandardOpenOption.WRITE);
                FileLock lock = ch.lock()) {
            if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS) && good.test(target)) {
                return target.toString();
            }
            Path tmp = Files.createTempFile(dir, "libpaws_jni-", ".tmp");
            try {
                write.write(tmp);
                moveInto(tmp, target);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
        return target.toString();
    }

    /** The jar entry behind a {@code jar:} URL; null for any other URL. */
    private static JarEntry jarEntry(URL url) {
        if (!"jar".equals(url.getProtocol())) {
            return null;
        }
        try {
            JarEntry e = ((JarURLConnection) url.openConnection()).getJarEntry();
            return e != null && e.getCrc() >= 0 && e.getSize() >= 0 ? e : null;
        } catch (IOException | ClassCastException e) {
            return null;
        }
    }

    /** The CRC-32 of a file's bytes. */
    private static long crc32(Path file) throws IOException {
        CRC32 crc = new CRC32();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            while (ch.read(buf) > 0) {
                buf.flip();
                crc.update(buf);
                buf.clear();
            }
        }
        return crc.getValue();
    }

    /** Renames a written temporary file to its final name, atomically where possible. */
    private static void moveInto(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * {@code <java.io.tmpdir>/paws-native-<user>} when it is a real directory owned by
     * this user with mode 700; otherwise a fresh private temporary directory.
     */
    private static Path privateDirectory() throws IOException {
        Path tmp = Paths.get(System.getProperty("java.io.tmpdir"));
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9_.-]", "_");
        Path dir = tmp.resolve("paws-native-" + user);
        Set<PosixFilePermission> only = PosixFilePermissions.fromString("rwx------");
        try {
            Files.createDirectories(tmp);
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(only));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // Checked below.
            }
            boolean ours =
                    Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
                            && Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS)
                                    .getName()
                                    .equals(System.getProperty("user.name"))
                            && Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS)
                                    .equals(only);
            if (ours) {
                return dir;
            }
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system.
        }
        Path fresh = Files.createTempDirectory(tmp, "paws-native-");
        fresh.toFile().deleteOnExit();
        return fresh;
    }

    private static String sha256(byte[] bytes) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(bytes);
            StringBuilder sb = new StringBuilder();
            for (byte b : d) {
                sb.append(String.format("%02x", b));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The message of a load failure: what was tried and what this machine is. */
    static String describeFailure(String how, String path, Throwable cause) {
        StringBuilder sb = new StringBuilder("paws: cannot load the native library ");
        sb.append(LIB_FILE);
        sb.append(" (from ").append(how).append(", path tried: ").append(path).append("): ");
        sb.append(cause.getClass().getSimpleName()).append(": ").append(cause.getMessage());
        sb.append("; os.name=").append(System.getProperty("os.name"));
        sb.append(", os.arch=").append(System.getProperty("os.arch"));
        sb.append(", glibc=").append(glibcVersion());
        String needs = path == null ? null : requiredGlibc(Paths.get(path));
        if (needs != null) {
            sb.append(", the library needs up to ").append(needs);
        }
        sb.append(", java.version=").append(System.getProperty("java.version"));
        sb.append(". Set -D").append(LIB_PROPERTY).append("=/path/to/").append(LIB_FILE);
        sb.append(" or the Spark conf ").append(SPARK_CONF_KEY).append(" to use another build.");
        return sb.toString();
    }

    /** This machine's glibc, best effort: {@code getconf}, then {@code ldd --version}. */
    public static String glibcVersion() {
        if (!"linux".equals(osName())) {
            return "n/a (not Linux)";
        }
        String v = firstLine("getconf", "GNU_LIBC_VERSION");
        if (v != null && !v.isEmpty()) {
            return v.replace("glibc ", "");
        }
        v = firstLine("ldd", "--version");
        if (v != null) {
            Matcher m = Pattern.compile("(\\d+\\.\\d+)\\s*$").matcher(v);
            return m.find() ? m.group(1) : v;
        }
        return "unknown (not glibc, e.g. musl?)";
    }

    private static String firstLine(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out;
            try (InputStream in = p.getInputStream()) {
                out = in.readAllBytes();
            }
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            if (p.exitValue() != 0) {
                return null;
            }
            String s = new String(out, StandardCharsets.UTF_8).trim();
            int nl = s.indexOf('\n');
            return nl >= 0 ? s.substring(0, nl).trim() : s;
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * The newest {@code GLIBC_x.y} symbol version named in the library file (a plain scan
     * of its bytes; the version needs live in its string table), or null.
     */
    static String requiredGlibc(Path lib) {
        try {
            if (!Files.isRegularFile(lib)) {
                return null;
            }
            String text = new String(Files.readAllBytes(lib), StandardCharsets.ISO_8859_1);
            Matcher m = Pattern.compile("GLIBC_(\\d+)\\.(\\d+)(?:\\.(\\d+))?").matcher(text);
            int[] best = null;
            while (m.find()) {
                int[] v = {
                    Integer.parseInt(m.group(1)),
                    Integer.parseInt(m.group(2)),
                    m.group(3) == null ? 0 : Integer.parseInt(m.group(3))
                };
                if (best == null
                        || v[0] > best[0]
                        || (v[0] == best[0] && (v[1] > best[1] || (v[1] == best[1] && v[2] > best[2])))) {
                    best = v;
                }
            }
            if (best == null) {
                return null;
            }
            return "GLIBC_" + best[0] + "." + best[1] + (best[2] > 0 ? "." + best[2] : "");
        } catch (IOException | OutOfMemoryError e) {
            return null;
        }
    }
}
