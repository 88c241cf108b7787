package dev.paws.spark.jni;

/**
 * The breed experiment's native side (the Rust crate {@code paws-jni}, module
 * {@code experiment}): the arguments, comparisons, seeded splits, table rows, saved models
 * and the report of {@code paws experiment}, for {@code dev.paws.spark.PetBreedExperiment}. The JVM
 * loads and caches the data and schedules training; everything that decides what the
 * experiment computes and reports is here, shared with the CLI.
 *
 * <p>A session is a handle: {@link #create}, {@link #setData} (the rows' image names and
 * breeds, in the CLI's row order), per task {@link #trainRows}/{@link #trainLabels}/
 * {@link #trainWeights}/{@link #testRows}/{@link #testLabels}, {@link #sgdCreate} (an SGD
 * state driven with {@link NativeKernels}), {@link #finish}; then {@link #writeReport}
 * and {@link #free}. JSON results are documented per method. Bad arguments throw
 * {@link IllegalArgumentException} with the CLI's message.
 */
public final class NativeExperiment {
    static {
        NativeLoader.load();
    }

    private NativeExperiment() {}

    /** {@code paws experiment --help} (or the version) if {@code args} ask for it, else null. */
    public static native String usage(String[] args);

    /** A session from {@code paws experiment}'s arguments. */
    public static native long create(String[] args);

    /**
     * The run's settings: {@code {"features", "default_features", "output", "extractor",
     * "loss" (NativeKernels.LOSS_*), "loss_name", "iterations", "mini_batch_fraction",
     * "standardize", "intercept", "class_weighting", "threshold", "splits"}}.
     */
    public static native String info(long handle);

    /**
     * The dataset's rows, in order: resolves the comparisons and plans every model.
     * Returns {@code {"rows", "classes", "comparisons", "log", "models": [{"task",
     * "comparison", "class1", "class2", "split", "num_model", "nb_train", "nb_test"}]}}.
     */
    public static native String setData(
            long handle, String[] images, String[] breeds, int dim, String extractor, String sourceName);

    /** The task's training rows: global row indices, strictly ascending. */
    public static native long[] trainRows(long handle, int task);

    /** 0/1 per training row. */
    public static native double[] trainLabels(long handle, int task);

    /** Per-row weights with {@code --class-weighting}, else null. */
    public static native double[] trainWeights(long handle, int task);

    /** The task's test rows, strictly ascending. */
    public static native long[] testRows(long handle, int task);

    /** 0/1 per test row. */
    public static native double[] testLabels(long handle, int task);

    /**
     * A new SGD state for the task (a {@link NativeKernels} SGD handle; free it with
     * {@link NativeKernels#sgdFree}). {@code mean}/{@code invStd} are given exactly with
     * {@code --scale standard}.
     */
    public static native long sgdCreate(long handle, int task, double[] mean, double[] invStd);

    /**
     * Records the task's result: its trained SGD state and {@code {tp, fp, tn, fn}} on the
     * test rows. Returns {@code {"row": <table row>, "warning": <text or null>}}.
     */
    public static native String finish(long handle, int task, long sgd, long[] confusion, double seconds);

    /**
     * Writes results.csv/.json/.md, accuracy.png and models/*.json into a local folder;
     * returns {@code {"table": <plain-text table>, "flagged": n, "files": [relative paths]}}.
     */
    public static native String writeReport(long handle, String localDir);

    /** Frees the session; false (no exception) when it was not live. */
    public static native boolean free(long handle);

    /** Sessions not yet freed. Test builds of the library only (feature test-hooks). */
    public static native int liveSessions();

    /**
     * {@code paws experiment} in this process (the CLI's engine), its output folder written
     * to {@code localDir}; returns what {@link #writeReport} returns. With null
     * {@code images}, the features must be a legacy folder (read by the CLI's reader);
     * otherwise {@code rows} (row-major, {@code dim} wide) are the dataset. Test builds of
     * the library only (feature test-hooks).
     */
    public static native String runInProcess(
            String[] args,
            String localDir,
            String[] images,
            String[] breeds,
            float[] rows,
            int dim,
            String extractor);

    /**
     * Legacy feature file names ({@code <breed>_<n>.jpg.json}) sorted as the CLI reads
     * them: {@code {"files": [...], "images": [...], "breeds": [...]}}.
     */
    public static native String legacyIndex(String[] fileNames);

    /** One legacy file's features, parsed as the CLI parses them. */
    public static native float[] parseLegacyFile(String fileName, byte[] bytes);
}
