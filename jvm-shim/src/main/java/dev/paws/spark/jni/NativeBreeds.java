package dev.paws.spark.jni;

/**
 * The breed predictor's native side (the Rust crate {@code paws-jni}, module
 * {@code breeds}): {@code paws train-breeds} itself, for {@code dev.paws.spark.TrainBreeds}.
 * Spark reads the feature files (any Hadoop path) and hands each file's rows over in
 * its order; the training, the model file and the confusion matrix are paws-core's and
 * paws-report's, as in the CLI.
 *
 * <p>A training is a handle: {@link #create}, {@link #info}, one {@link #addPart} per
 * feature file in order, {@link #train}, {@link #free}. Bad arguments throw
 * {@link IllegalArgumentException} with the CLI's message.
 */
public final class NativeBreeds {
    static {
        NativeLoader.load();
    }

    private NativeBreeds() {}

    /** {@code paws train-breeds --help} (or the version) if {@code args} ask for it, else null. */
    public static native String usage(String[] args);

    /** A training from {@code paws train-breeds}' arguments. */
    public static native long create(String[] args);

    /**
     * {@code {"features": [paths, in order], "default_features", "output"}}; without
     * {@code --features}, the committed feature sets (local files).
     */
    public static native String info(long handle);

    /** One feature file's rows: {@code features} row-major, {@code dim} per row. */
    public static native void addPart(
            long handle, String[] images, String[] breeds, float[] features, int dim, String extractor,
            String source);

    /**
     * Trains on every part, writes the model file and its confusion CSV and PNG into the
     * local folder {@code localDir}; returns {@code {"files": [names], "summary"}}.
     */
    public static native String train(long handle, String localDir);

    /** Frees the training; false when it was already freed. */
    public static native boolean free(long handle);

    /** Trainings not yet freed (test builds of the library only). */
    public static native int liveTrainings();
}
