package dev.paws.spark.jni;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * What the loaded library says it implements ({@link NativeKernels#contract()}): the
 * numeric contract the JVM relies on (the chunk size, the layout of exact sums, the loss
 * codes), checked once at load against {@link Expected#JVM}, and the SGD parameters'
 * defaults and updater names, which the Spark API takes from here rather than repeating.
 *
 * <p>{@link #check} is a pure function of the expectation and the JSON, so a mismatch can
 * be tested without a mismatched library.
 */
public final class NativeContract {
    /** The constants the JVM code is written against. */
    public static final class Expected {
        /** This jar's expectations: NativeKernels' constants. */
        public static final Expected JVM = new Expected(
                jarVersion(), NativeKernels.CHUNK_ROWS, 2, 6, NativeKernels.LOSS_HINGE,
                NativeKernels.LOSS_LOGISTIC);

        final String version;
        final int chunkRows;
        final int sumPerDim;
        final int sumConstant;
        final int lossHinge;
        final int lossLogistic;

        public Expected(String version, int chunkRows, int sumPerDim, int sumConstant, int lossHinge,
                int lossLogistic) {
            this.version = version;
            this.chunkRows = chunkRows;
            this.sumPerDim = sumPerDim;
            this.sumConstant = sumConstant;
            this.lossHinge = lossHinge;
            this.lossLogistic = lossLogistic;
        }
    }

    private static volatile NativeContract loaded;

    private final Map<String, Object> json;

    private NativeContract(Map<String, Object> json) {
        this.json = json;
    }

    /**
     * The contract of {@code contractJson} if it matches {@code expected}; otherwise an
     * {@link IllegalStateException} naming every difference, the jar's version and the
     * library's.
     */
    public static NativeContract check(Expected expected, String contractJson) {
        Map<String, Object> j;
        try {
            j = asMap(new Json(contractJson).value(), "contract");
        } catch (RuntimeException e) {
            throw new IllegalStateException("paws: the native library's contract is not valid JSON ("
                    + e.getMessage() + "): " + contractJson, e);
        }
        NativeContract c = new NativeContract(j);
        List<String> diffs = new ArrayList<>();
        compare(diffs, "chunk_rows", expected.chunkRows, c.integer("chunk_rows"));
        Map<String, Object> sum = asMap(j.get("sum_words"), "sum_words");
        compare(diffs, "sum_words.per_dim", expected.sumPerDim, integer(sum, "per_dim"));
        compare(diffs, "sum_words.constant", expected.sumConstant, integer(sum, "constant"));
        Map<String, Object> loss = asMap(j.get("loss"), "loss");
        compare(diffs, "loss.hinge", expected.lossHinge, integer(loss, "hinge"));
        compare(diffs, "loss.logistic", expected.lossLogistic, integer(loss, "logistic"));
        if (!diffs.isEmpty()) {
            throw new IllegalStateException("paws: the native library (paws-jni " + c.version()
                    + ") does not implement the contract this jar (paws-spark " + expected.version
                    + ") is built for: " + String.join("; ", diffs)
                    + ". Use the library that came with the jar (remove -Dpaws.native.lib or "
                    + "spark.paws.native.lib), or a jar of the library's version.");
        }
        return c;
    }

    /** The loaded library's contract (loading the library first). */
    public static NativeContract get() {
        NativeLoader.load();
        return loaded;
    }

    /** Checks the library just loaded (by {@link NativeLoader}); throws on a mismatch. */
    static void verifyLoadedLibrary() {
        loaded = check(Expected.JVM, NativeKernels.contract());
    }

    /** The library's crate version. */
    public String version() {
        Object v = json.get("version");
        return v == null ? "unknown" : v.toString();
    }

    public int defaultIterations() {
        return integer(defaults(), "iterations");
    }

    public double defaultStepSize() {
        return number(defaults(), "step_size");
    }

    public double defaultRegParam() {
        return number(defaults(), "reg_param");
    }

    public double defaultMiniBatchFraction() {
        return number(defaults(), "mini_batch_fraction");
    }

    public double defaultConvergenceTol() {
        return number(defaults(), "convergence_tol");
    }

    public String defaultUpdater() {
        return (String) defaults().get("updater");
    }

    public boolean defaultIntercept() {
        return Boolean.TRUE.equals(defaults().get("intercept"));
    }

    /** The updater names, canonical spellings only ({@code l2, l1, none}). */
    public List<String> updaters() {
        List<String> out = new ArrayList<>();
        for (Object o : asList(json.get("updaters"), "updaters")) {
            out.add((String) o);
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * The canonical name of an updater ({@code simple} is {@code none}), case-insensitive;
     * {@link IllegalArgumentException} for an unknown name.
     */
    public String canonicalUpdater(String name) {
        if (name == null) {
            throw new IllegalArgumentException("updater must not be null");
        }
        String n = name.toLowerCase(Locale.ROOT);
        Object alias = asMap(json.get("updater_aliases"), "updater_aliases").get(n);
        if (alias != null) {
            n = (String) alias;
        }
        if (!updaters().contains(n)) {
            throw new IllegalArgumentException("updater must be one of " + String.join(", ", updaters())
                    + " (or an alias: " + asMap(json.get("updater_aliases"), "updater_aliases").keySet()
                    + "), got " + name);
        }
        return n;
    }

    private Map<String, Object> defaults() {
        return asMap(json.get("defaults"), "defaults");
    }

    private int integer(String key) {
        return integer(json, key);
    }

    private static void compare(List<String> diffs, String what, int expected, int found) {
        if (expected != found) {
            diffs.add(what + " is " + found + " in the library, " + expected + " in the jar");
        }
    }

    private static int integer(Map<String, Object> m, String key) {
        double d = number(m, key);
        if (d != Math.rint(d)) {
            throw new IllegalStateException("paws: contract field " + key + " is not an integer: " + d);
        }
        return (int) d;
    }

    private static double number(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof Double)) {
            throw new IllegalStateException("paws: contract field " + key + " is missing or not a number");
        }
        return (Double) v;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object o, String what) {
        if (!(o instanceof Map)) {
            throw new IllegalStateException("paws: contract field " + what + " is missing or not an object");
        }
        return (Map<String, Object>) o;
    }

    private static List<?> asList(Object o, String what) {
        if (!(o instanceof List)) {
            throw new IllegalStateException("paws: contract field " + what + " is missing or not an array");
        }
        return (List<?>) o;
    }

    /** This jar's version (Maven's project version, from a filtered resource). */
    static String jarVersion() {
        try (InputStream in = NativeContract.class.getResourceAsStream("paws-spark.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** A minimal JSON reader: objects, arrays, strings, numbers (as Double), booleans, null. */
    private static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            if (s == null) {
                throw new IllegalArgumentException("null");
            }
            this.s = s;
        }

        Object value() {
            Object v = any();
            skip();
            if (i != s.length()) {
                throw error("trailing characters");
            }
            return v;
        }

        private Object any() {
            skip();
            if (i >= s.length()) {
                throw error("unexpected end");
            }
            char c = s.charAt(i);
            if (c == '{') {
                i++;
                Map<String, Object> m = new LinkedHashMap<>();
                skip();
                if (peek('}')) {
                    return m;
                }
                do {
                    skip();
                    String k = string();
                    skip();
                    expect(':');
                    m.put(k, any());
                    skip();
                } while (peek(','));
                expect('}');
                return m;
            }
            if (c == '[') {
                i++;
                List<Object> l = new ArrayList<>();
                skip();
                if (peek(']')) {
                    return l;
                }
                do {
                    l.add(any());
                    skip();
                } while (peek(','));
                expect(']');
                return l;
            }
            if (c == '"') {
                return string();
            }
            if (s.startsWith("true", i)) {
                i += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("false", i)) {
                i += 5;
                return Boolean.FALSE;
            }
            if (s.startsWith("null", i)) {
                i += 4;
                return null;
            }
            int start = i;
            while (i < s.length() && "+-.eE0123456789".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            if (start == i) {
                throw error("unexpected '" + c + "'");
            }
            return Double.valueOf(s.substring(start, i));
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (i < s.length() && s.charAt(i) != '"') {
                char c = s.charAt(i++);
                if (c == '\\') {
                    if (i >= s.length()) {
                        throw error("unexpected end");
                    }
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n': b.append('\n'); break;
                        case 't': b.append('\t'); break;
                        case 'r': b.append('\r'); break;
                        case 'b': b.append('\b'); break;
                        case 'f': b.append('\f'); break;
                        case 'u':
                            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                            break;
                        default: b.append(e);
                    }
                } else {
                    b.append(c);
                }
            }
            expect('"');
            return b.toString();
        }

        private void skip() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private boolean peek(char c) {
            if (i < s.length() && s.charAt(i) == c) {
                i++;
                return true;
            }
            return false;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw error("expected '" + c + "'");
            }
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException(what + " at offset " + i);
        }
    }
}
