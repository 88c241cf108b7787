package dev.paws.cluster;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;
import org.apache.hadoop.yarn.server.resourcemanager.rmapp.RMApp;

/**
 * Runs a real YARN (Hadoop's MiniYARNCluster: one ResourceManager, one NodeManager) in
 * this JVM for the cluster tests, until its standard input closes or the file
 * {@code <dir>/STOP} appears.
 *
 * <pre>
 *   java -cp target/classes:$(cat target/classpath.txt) dev.paws.cluster.MiniYarnLauncher DIR
 * </pre>
 *
 * Run it with DIR as the working directory (MiniYARNCluster keeps its local and log
 * directories under {@code ./target/<name>}). It writes:
 *
 * <ul>
 *   <li>{@code DIR/conf/yarn-site.xml} and {@code core-site.xml}: the client configuration
 *       with the cluster's real addresses, for {@code HADOOP_CONF_DIR};
 *   <li>{@code DIR/apps.tsv}, rewritten every 250 ms: one line per application, {@code
 *       id, state, final status, name, diagnostics} (tab-separated, newlines escaped);
 *   <li>{@code DIR/READY} once the NodeManager has registered.
 * </ul>
 *
 * The file system is the local one ({@code fs.defaultFS=file:///}): client, ResourceManager
 * and NodeManager share this machine. Memory and vcore checks are off and the FIFO
 * scheduler is used, so a small machine can run an application master and two executors.
 */
public final class MiniYarnLauncher {
    private MiniYarnLauncher() {}

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable t) {
            System.err.println("paws-yarn: failed: " + t);
            t.printStackTrace();
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: MiniYarnLauncher DIR");
            System.exit(2);
        }
        // Jersey and Guice log through java.util.logging, at INFO: keep warnings only.
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
        for (java.util.logging.Handler h : java.util.logging.Logger.getLogger("").getHandlers()) {
            h.setLevel(java.util.logging.Level.WARNING);
        }
        Path dir = Paths.get(args[0]).toAbsolutePath();
        Path confDir = dir.resolve("conf");
        Files.createDirectories(confDir);
        Path stop = dir.resolve("STOP");

        YarnConfiguration conf = new YarnConfiguration();
        conf.set("fs.defaultFS", "file:///");
        conf.set(YarnConfiguration.RM_SCHEDULER,
                "org.apache.hadoop.yarn.server.resourcemanager.scheduler.fifo.FifoScheduler");
        conf.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 128);
        conf.setInt(YarnConfiguration.RM_SCHEDULER_MAXIMUM_ALLOCATION_MB, 4096);
        conf.setInt(YarnConfiguration.NM_PMEM_MB, 6144);
        conf.setInt(YarnConfiguration.NM_VCORES, 4);
        conf.setBoolean(YarnConfiguration.NM_PMEM_CHECK_ENABLED, false);
        conf.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
        conf.setFloat(YarnConfiguration.NM_MAX_PER_DISK_UTILIZATION_PERCENTAGE, 99.9f);
        conf.setBoolean(YarnConfiguration.TIMELINE_SERVICE_ENABLED, false);
        conf.setBoolean(YarnConfiguration.LOG_AGGREGATION_ENABLED, false);
        // Keep finished containers' directories and logs for the tests to read.
        conf.setInt(YarnConfiguration.DEBUG_NM_DELETE_DELAY_SEC, 3600);
        conf.setInt(YarnConfiguration.RM_AM_MAX_ATTEMPTS, 1);
        conf.set(YarnConfiguration.NM_ENV_WHITELIST, "JAVA_HOME,PATH,LANG,TZ,SPARK_LOCAL_IP");

        MiniYARNCluster cluster = new MiniYARNCluster("paws-yarn", 1, 1, 1);
        long t0 = System.nanoTime();
        cluster.init(conf);
        cluster.start();
        if (!cluster.waitForNodeManagersToConnect(120_000)) {
            throw new IllegalStateException("the NodeManager did not register within 120 s");
        }
        Configuration live = cluster.getConfig();
        writeXml(live, confDir.resolve("yarn-site.xml"));
        Configuration core = new Configuration(false);
        core.set("fs.defaultFS", "file:///");
        writeXml(core, confDir.resolve("core-site.xml"));

        Thread reporter = new Thread(() -> report(cluster, dir.resolve("apps.tsv")), "apps-report");
        reporter.setDaemon(true);
        reporter.start();
        Thread stdin = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // wait for EOF
                }
            } catch (IOException ignored) {
                // treat as EOF
            }
            try {
                Files.write(stop, new byte[0]);
            } catch (IOException ignored) {
                // the main loop also stops on interrupt
            }
        }, "stdin-eof");
        stdin.setDaemon(true);
        stdin.start();

        Files.write(dir.resolve("READY"),
                (live.get(YarnConfiguration.RM_ADDRESS) + "\n").getBytes(StandardCharsets.UTF_8));
        System.err.printf("paws-yarn: MiniYARNCluster ready in %.1f s, ResourceManager at %s, "
                + "node manager %s, conf in %s%n", (System.nanoTime() - t0) / 1e9,
                live.get(YarnConfiguration.RM_ADDRESS),
                cluster.getNodeManager(0).getNMContext().getNodeId(), confDir);

        while (!Files.exists(stop)) {
            Thread.sleep(200);
        }
        System.err.println("paws-yarn: stopping");
        writeApps(cluster, dir.resolve("apps.tsv"));
        // A full stop takes 15 s or more (service shutdown timeouts); the tests have
        // waited for their applications to end, so give it 5 s and then leave.
        Thread stopper = new Thread(cluster::stop, "stop");
        stopper.setDaemon(true);
        stopper.start();
        stopper.join(5_000);
        System.err.println(stopper.isAlive() ? "paws-yarn: stop timed out, exiting" : "paws-yarn: stopped");
        Runtime.getRuntime().halt(0);
    }

    private static void writeXml(Configuration c, Path to) throws IOException {
        Path tmp = to.resolveSibling(to.getFileName() + ".tmp");
        try (OutputStream out = new FileOutputStream(tmp.toFile())) {
            c.writeXml(out);
        }
        Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void report(MiniYARNCluster cluster, Path to) {
        while (true) {
            try {
                writeApps(cluster, to);
                Thread.sleep(250);
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                System.err.println("paws-yarn: apps report failed: " + e);
            }
        }
    }

    private static synchronized void writeApps(MiniYARNCluster cluster, Path to) throws IOException {
        List<String> lines = new ArrayList<>();
        for (RMApp app : cluster.getResourceManager().getRMContext().getRMApps().values()) {
            lines.add(String.join("\t", app.getApplicationId().toString(), app.getState().toString(),
                    String.valueOf(app.getFinalApplicationStatus()), clean(app.getName()),
                    clean(String.valueOf(app.getDiagnostics()))));
        }
        Path tmp = to.resolveSibling(to.getFileName() + ".tmp");
        Files.write(tmp, lines, StandardCharsets.UTF_8);
        Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static String clean(String s) {
        return s == null ? "" : s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n");
    }
}
