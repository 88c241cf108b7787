package dev.paws.spark.jni;

/**
 * A features Parquet file read in pieces by paws-core's reader (the Rust module
 * {@code paws_core::data::parquet_ranges}), from bytes the JVM fetched through Hadoop's
 * {@code FileSystem}: {@code s3a://}, {@code hdfs://} and EMRFS paths work, and no Spark
 * SQL query is planned. The caller reads the file's last {@link #TAIL_LEN} bytes
 * ({@link #footerLength}), the footer ({@link #layout}), then only the byte ranges one
 * reader needs: {@link #index} on the driver, {@link #features} per row group in tasks.
 *
 * <p>A bad file throws {@link IllegalArgumentException} naming the file, the column and
 * the row (its number in the file), as {@code paws experiment} names them.
 */
public final class NativeParquet {
    static {
        NativeLoader.load();
    }

    /** Bytes at the end of every Parquet file: the footer's length and {@code PAR1}. */
    public static final int TAIL_LEN = 8;

    private NativeParquet() {}

    /** The footer's length, from the file's last {@link #TAIL_LEN} bytes. */
    public static native int footerLength(String path, long fileLen, byte[] tail);

    /**
     * What the footer says: {@code {"row_groups": [{"rows", "index": [[start, length],
     * ...], "features": [[start, length], ...]}], "model", "dim"}}; {@code index} are the
     * {@code image} and {@code label} columns' bytes, {@code features} the features'. The
     * three columns must be there.
     */
    public static native String layout(String path, long fileLen, byte[] footer);

    /**
     * {@code {"images": [...], "labels": [...]}} of every row of the file, from
     * {@code pieces[i]}, the bytes fetched from offset {@code starts[i]}: they must cover
     * every row group's {@code index} ranges.
     */
    public static native String index(String path, long fileLen, byte[] footer, long[] starts, byte[][] pieces);

    /**
     * Row group {@code rowGroup}'s features, row-major (every row the same length, finite),
     * from pieces that cover its {@code features} ranges.
     */
    public static native float[] features(
            String path, long fileLen, byte[] footer, int rowGroup, long[] starts, byte[][] pieces);
}
