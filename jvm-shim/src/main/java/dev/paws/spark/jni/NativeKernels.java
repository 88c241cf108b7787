package dev.paws.spark.jni;

/**
 * The paws native kernels (the Rust crate {@code paws-jni}): every numeric step of
 * training and evaluation runs here, the same code as the in-process {@code paws} CLI.
 *
 * <p>Errors: bad shapes, indices, handles and arguments throw
 * {@link IllegalArgumentException}; I/O errors {@link java.io.IOException} (unchecked
 * here, as JNI does not declare it); Rust panics and other Rust errors
 * {@link PawsNativeException}. No input crashes the JVM.
 *
 * <p>Large arrays ({@code float[] rows}, {@code double[] labels}) are read in place
 * (JNI critical regions, no copy back); do not modify them from another thread during
 * a call.
 *
 * <p>Gradient sums are exact fixed-point numbers serialised as {@code long[]} words
 * ({@link #sumWords} of them: {@code Σ c·x}, {@code Σ c}, the loss, the count, an
 * overflow flag). An all-zero array of that length is the empty sum. Sums can be merged
 * in any order with the same result, bit for bit.
 */
public final class NativeKernels {
    // The numeric contract as this jar's code is written against it. NativeLoader checks
    // these against the loaded library's contract() before any other call (NativeContract).

    /** Linear SVM (MLlib's {@code HingeGradient}). */
    public static final int LOSS_HINGE = 0;
    /** Logistic regression (MLlib's binary {@code LogisticGradient}). */
    public static final int LOSS_LOGISTIC = 1;
    /** Rows per chunk of the numeric contract (paws_core::source::CHUNK_ROWS). */
    public static final int CHUNK_ROWS = 256;

    static {
        NativeLoader.load();
    }

    private NativeKernels() {}

    /** Makes sure the library is loaded in this JVM (it is on first use anyway). */
    public static void ensureLoaded() {
        NativeLoader.load();
    }

    /** Length of the {@code long[]} words of a gradient sum over {@code dim} features. */
    public static int sumWords(int dim) {
        return 2 * (dim + 1) + 4;
    }

    /**
     * The library's contract and defaults as JSON: {@code {"version", "chunk_rows",
     * "sum_words": {"per_dim", "constant"}, "loss": {"hinge", "logistic"}, "defaults":
     * {"iterations", "step_size", "reg_param", "mini_batch_fraction", "convergence_tol",
     * "updater", "intercept"}, "updaters": [...], "updater_aliases": {...}}}; read it
     * through {@link NativeContract}.
     */
    public static native String contract();

    /** The crate version and chunk size of the loaded library. */
    public static native String nativeVersion();

    /** The sum of two gradient sums (inputs unchanged). */
    public static native long[] mergeSums(long[] a, long[] b);

    /**
     * A new driver-side SGD state (MLlib's {@code runMiniBatchSGD} loop); free it with
     * {@link #sgdFree}.
     *
     * @param paramsJson {@code {"loss":"hinge"|"logistic","updater":"l2"|"l1"|"none",
     *     "step_size":..,"iterations":..,"reg_param":..,"mini_batch_fraction":..,
     *     "convergence_tol":..}}
     * @param scalingMean null, or per-feature means (with {@code scalingInvStd})
     * @param scalingInvStd null, or per-feature inverse standard deviations
     * @param initialWeights null (zeros, intercept 1.0 as MLlib), or model-space weights
     *     with the intercept last
     */
    public static native long sgdCreate(
            String paramsJson,
            int dim,
            boolean intercept,
            double[] scalingMean,
            double[] scalingInvStd,
            double[] initialWeights);

    /**
     * The {@code paramsJson} of {@link #sgdCreate}; {@link IllegalArgumentException} for a
     * parameter that is not finite (the library checks the ranges).
     */
    public static String sgdParamsJson(
            int loss,
            String updater,
            double stepSize,
            int iterations,
            double regParam,
            double miniBatchFraction,
            double convergenceTol) {
        String lossName;
        if (loss == LOSS_HINGE) {
            lossName = "hinge";
        } else if (loss == LOSS_LOGISTIC) {
            lossName = "logistic";
        } else {
            throw new IllegalArgumentException("loss must be " + LOSS_HINGE + " (hinge) or " + LOSS_LOGISTIC
                    + " (logistic), got " + loss);
        }
        return "{\"loss\":\"" + lossName + "\",\"updater\":\"" + updater + "\",\"step_size\":"
                + finite(stepSize, "stepSize") + ",\"iterations\":" + iterations + ",\"reg_param\":"
                + finite(regParam, "regParam") + ",\"mini_batch_fraction\":"
                + finite(miniBatchFraction, "miniBatchFraction") + ",\"convergence_tol\":"
                + finite(convergenceTol, "convergenceTol") + "}";
    }

    private static String finite(double d, String name) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            throw new IllegalArgumentException(name + " must be finite, got " + d);
        }
        return Double.toString(d);
    }

    /** Kernel weights for the next pass: {@code dim} values, then the offset. */
    public static native double[] sgdKernelWeights(long handle);

    /** The iteration (from 1) the next pass serves. */
    public static native int sgdIteration(long handle);

    /** True once MLlib's loop would stop (converged, or after the final loss pass). */
    public static native boolean sgdIsDone(long handle);

    public static native boolean sgdConverged(long handle);

    /** Weight updates applied so far. */
    public static native int sgdUpdates(long handle);

    /** Applies one pass's gradient sum. */
    public static native void sgdApply(long handle, long[] sumWords);

    /**
     * The whole state in binary (every float's bits): a copy made with {@link #sgdLoad}
     * continues bit for bit as this one would. How the barrier driver gives every task the
     * states, gets them back and checkpoints them.
     */
    public static native byte[] sgdSave(long handle);

    /** A new SGD state from {@link #sgdSave}'s bytes; free it with {@link #sgdFree}. */
    public static native long sgdLoad(byte[] state);

    /** Replaces the state of {@code handle} with {@link #sgdSave}'s bytes. */
    public static native void sgdRestore(long handle, byte[] state);

    /**
     * One round of the barrier driver: merges {@code messages} (every task's
     * {@link #sweepAccFinishMessage}, in any order) and applies model {@code modelIds[k]}'s
     * sum to {@code handles[k]}, as {@link #sgdApply} does; a model no message holds gets the
     * empty sum.
     */
    public static native void sgdApplyRound(long[] handles, int[] modelIds, byte[][] messages);

    /** MLlib's stochastic loss history. */
    public static native double[] sgdLossHistory(long handle);

    /** Weights on raw features ({@code dim} values), then the intercept. */
    public static native double[] sgdRawModel(long handle);

    /** Frees the state; false if the handle was not live (never throws for that). */
    public static native boolean sgdFree(long handle);

    /** SGD states not yet freed. Test builds of the library only (feature test-hooks). */
    public static native int sgdLiveHandles();

    /** {@code {tp, fp, tn, fn}} of the model on the selected rows of the block. */
    public static native long[] confusionSelected(
            int loss,
            float[] rows,
            int dim,
            long firstRow,
            long[] selRows,
            double[] selLabels,
            double[] weights,
            double intercept,
            double threshold);

    /** An empty per-task accumulator of sweep sums for model ids {@code 0 .. models-1}. */
    public static native long sweepAccCreate(int models, int dim);

    /**
     * The kernel weights of these SGD states ({@link #sgdKernelWeights} of each, in that
     * order), kept native for one pass's {@link #sweepAccAdd} calls (a barrier task's
     * round); free with {@link #sweepWeightsFree}.
     */
    public static native long sweepWeightsCreate(long[] sgdHandles);

    /**
     * Entry {@code slots[i]} of {@code weights} becomes the kernel weights of SGD state
     * {@code sgdHandles[i]}, in place, and the entries not named are released (a
     * barrier task's weights, refreshed after each round for the models still training:
     * the done models' memory goes back; a block naming one of them is an error).
     */
    public static native void sweepWeightsRefresh(long weights, long[] sgdHandles, int[] slots);

    /**
     * K models' kernel weights given as {@link #sgdKernelWeights} returns them, one after
     * the other ({@code dim} weights, then the offset, each), kept native for one pass's
     * {@link #sweepAccAdd} calls (a per-job task's pass); free with
     * {@link #sweepWeightsFree}.
     */
    public static native long sweepWeightsOf(double[] kernels, int dim);

    /** Frees a pass's kernel weights; false when they were not live. */
    public static native boolean sweepWeightsFree(long weights);

    /**
     * Adds the sums of K models over one cached block of whole chunks to an accumulator,
     * in one GEMM-shaped pass: model {@code modelIds[k]} reads the block's rows {@code
     * selRows[selStart[k] .. selStart[k+1])} (strictly ascending, all inside the block;
     * labels 0/1; weights null or one each), with kernel weights entry {@code members[k]}
     * of the pass's {@code weights} ({@link #sweepWeightsCreate}, {@link #sweepWeightsOf}),
     * read in place. The sums stay native until {@link #sweepAccFinish}; each is the
     * model's exact sum, whatever the other models.
     */
    public static native void sweepAccAdd(
            long handle, int loss, float[] rows, int dim, long firstRow, int[] modelIds,
            int[] selStart, long[] selRows, double[] selLabels, double[] selWeights,
            long weights, int[] members, int iteration, double fraction);

    /**
     * {@link #sweepAccAdd} for a block of sparse rows: row r's non-zero features are
     * stored lane by lane, segment s (features j with j mod 4 = s below the last multiple
     * of 4 for s = 0..3, the rest for s = 4) holding the entries {@code ptr[5r + s] ..
     * ptr[5r + s + 1]} of {@code indices} and {@code values}, ascending. Every model's sum
     * is the one of the same rows dense, bit for bit.
     */
    public static native void sweepAccAddSparse(
            long handle, int loss, int[] ptr, int[] indices, float[] values, int dim, long firstRow,
            int[] modelIds, int[] selStart, long[] selRows, double[] selLabels, double[] selWeights,
            long weights, int[] members, int iteration, double fraction);

    /**
     * Frees the accumulator and returns its sums: {@code n}, the {@code n} model ids,
     * then their {@code n} sums' words ({@link #sumWords} each).
     */
    public static native long[] sweepAccFinish(long handle);

    /**
     * The sums of {@link #sweepAccFinish}'s result by model id (models without sampled
     * rows have none: their sum is zero).
     */
    public static java.util.Map<Integer, long[]> sweepSumsById(long[] finished, int dim) {
        int n = (int) finished[0];
        int words = sumWords(dim);
        java.util.Map<Integer, long[]> out = new java.util.HashMap<>();
        for (int q = 0; q < n; q++) {
            int from = 1 + n + q * words;
            out.put((int) finished[1 + q], java.util.Arrays.copyOfRange(finished, from, from + words));
        }
        return out;
    }

    /** Frees an accumulator that will not be finished; false when it was not live. */
    public static native boolean sweepAccFree(long handle);

    /**
     * Frees the accumulator and returns its sums as one message for {@link #sgdApplyRound}
     * (a compact encoding, about 10 bytes a value instead of 16).
     */
    public static native byte[] sweepAccFinishMessage(long handle);

    /**
     * Per-feature moments of the selected rows of a block as exact sum words ({@code
     * 2·dim + 4} of them; merge with {@link #mergeSums}): {@code Σ x} with a null
     * {@code center}, {@code Σ (x - center)²} otherwise.
     */
    public static native long[] momentsSelected(
            float[] rows, int dim, long firstRow, long[] selRows, double[] center);

    /** The mean from merged {@link #momentsSelected} sums without a center. */
    public static native double[] meanOfMoments(long[] words);

    /**
     * Inverse sample standard deviations (0 for a constant feature) from merged
     * {@link #momentsSelected} sums around the mean.
     */
    public static native double[] invStdOfMoments(long[] words);

    // --- Feature extraction (rust/paws-jni/src/extract_jni.rs) ----------------------

    /**
     * Loads an ONNX model from its bytes (float32 {@code [1, 3, S, S]} NCHW input) and
     * returns a handle usable from many threads at once; {@code name} (its path) names
     * it in errors; {@code modelId} may be null (ONNX metadata {@code model_id}, else
     * the file stem). {@code backend} is {@code tract} or {@code onnxruntime}, and
     * {@code onnxruntimeLib} the {@code libonnxruntime} file that the latter opens
     * (null: {@code $ORT_DYLIB_PATH}). A model that cannot be read, or an unknown
     * backend, throws {@link IllegalArgumentException}; a library that cannot be opened
     * (missing, too new a glibc) throws {@link PawsNativeException} naming it.
     */
    public static native long extractorOpen(
            byte[] model, String name, int inputSize, String featuresOutput, String modelId,
            String backend, String onnxruntimeLib);

    /** The feature dimension of an extractor. */
    public static native int extractorDim(long handle);

    /** The model id recorded with an extractor's features. */
    public static native String extractorModelId(long handle);

    /**
     * The features of one encoded photo (JPEG, PNG, GIF, BMP, WebP or TIFF, decoded by
     * content; resize 256, centre crop S, {@code (x/255 - 0.5)/0.5}), exactly as
     * {@code paws extract} computes them. A photo that cannot be decoded (truncated,
     * corrupt, unknown format) throws {@link IllegalArgumentException} naming {@code name}.
     */
    public static native float[] extractImage(long handle, byte[] image, String name);

    /** Frees an extractor; false when the handle was not live. */
    public static native boolean extractorClose(long handle);

    /**
     * The breed of an Oxford-IIIT Pet file name ({@code Bengal_12.jpg} gives
     * {@code Bengal}), or null when the name is not {@code <breed>_<n>.<ext>}.
     */
    public static native String breedOfFileName(String fileName);

    // Test hooks: exported by test builds of the library only (paws-jni feature test-hooks,
    // scripts/test-spark.sh); the shipped library throws UnsatisfiedLinkError for them.

    /** Panics in Rust with this message. */
    public static native void debugPanic(String message);

    /** A Rust error of kind "invalid", "io" or anything else. */
    public static native void debugError(String kind, String message);
}
