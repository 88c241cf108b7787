package dev.paws.spark.jni;

/**
 * Diagnostics: {@code java -cp paws-spark-<version>.jar dev.paws.spark.jni.NativeInfo}
 * loads the native library as an executor would and prints where from, its version,
 * this machine's glibc and the newest glibc the library needs. Exits 1 when loading
 * fails, printing the loader's message.
 */
public final class NativeInfo {
    private NativeInfo() {}

    public static void main(String[] args) {
        try {
            NativeLoader.load();
        } catch (UnsatisfiedLinkError e) {
            System.err.println(e.getMessage());
            System.exit(1);
        }
        String path = NativeLoader.loadedFrom();
        System.out.println("loaded from: " + path);
        System.out.println("version: " + NativeKernels.nativeVersion());
        System.out.println("resource: " + NativeLoader.resourceName());
        System.out.println("glibc: " + NativeLoader.glibcVersion());
        System.out.println(
                "library needs: " + NativeLoader.requiredGlibc(java.nio.file.Paths.get(path)));
    }
}
