package dev.paws.spark.jni;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
 *       by its content hash, so different versions never overwrite each other.
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
        byte[] bytes;
        try (InputStream in = NativeLoader.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException(
                        "the jar has no native library for this platform (resource "
                                + resource
                                + " not found); build paws-jni for it or set -D"
                                + LIB_PROPERTY
                                + "=");
            }
            bytes = readAll(in);
        }
        String hash = sha256(bytes).substring(0, 16);
        Path dir = privateDirectory();
        Path target = dir.resolve("libpaws_jni-" + hash + ".so");
        try (FileChannel ch =
                        FileChannel.open(
                                dir.resolve(".lock"),
                                StandardOpenOption.CREATE,
                                StandardOpenOption.WRITE);
                FileLock lock = ch.lock()) {
            if (!(Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)
                    && Files.size(target) == bytes.length
                    && sha256(Files.readAllBytes(target)).startsWith(hash))) {
                Path tmp = Files.createTempFile(dir, "libpaws_jni-", ".tmp");
                try {
                    Files.write(tmp, bytes);
                    try {
                        Files.move(
                                tmp,
                                target,
                                StandardCopyOption.ATOMIC_MOVE,
                                StandardCopyOption.REPLACE_EXISTING);
                    } catch (AtomicMoveNotSupportedException e) {
                        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
        }
        return target.toString();
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

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 20);
        byte[] buf = new byte[1 << 16];
        int n;
        while ((n = in.read(buf)) > 0) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
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
                out = readAll(in);
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
