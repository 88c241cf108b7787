package dev.paws.spark.jni;

/**
 * An error inside the paws native library: a Rust panic (the message names the
 * source location) or a Rust error that is not a bad argument. The JVM is unaffected:
 * the native call was abandoned cleanly, and later calls work.
 */
public class PawsNativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PawsNativeException(String message) {
        super(message);
    }

    public PawsNativeException(String message, Throwable cause) {
        super(message, cause);
    }
}
