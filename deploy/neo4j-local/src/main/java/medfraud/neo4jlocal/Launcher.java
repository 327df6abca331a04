package medfraud.neo4jlocal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

import org.neo4j.cli.ExecutionContext;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.importer.ImportCommand;
import org.neo4j.io.ByteUnit;
import org.neo4j.io.fs.DefaultFileSystemAbstraction;
import picocli.CommandLine;

/**
 * Neo4j Community 5 embedded, with a Bolt port on 127.0.0.1, authentication on and the OpenGDS
 * procedures: the Neo4j medfraud's tests and Docker-less users run.
 *
 * <p>Usage: {@code java ... medfraud.neo4jlocal.Launcher PORT DATA_DIR GDS_JAR_DIR}, password in
 * {@code NEO4J_PASSWORD}. {@code run.sh} builds the class path and passes the arguments. Prints one
 * line {@code medfraud-neo4j ready bolt://127.0.0.1:PORT gds=VERSION} once Bolt accepts connections
 * and {@code gds.version()} answers; shuts the database down cleanly on SIGTERM.
 *
 * <p>{@code Launcher --import DATA_DIR ARGS...} instead runs Neo4j's offline bulk importer (the code
 * behind {@code neo4j-admin database import full}) into the {@code neo4j} database of DATA_DIR and
 * exits with its status; ARGS are that command's options, usually {@code @FILE} naming an argument
 * file written by {@code medfraud neo4j-import}. The server must not be running on DATA_DIR (the
 * importer takes the store lock and refuses otherwise).
 *
 * <p>The {@code graphdatascience} Python client asks for {@code gds.debug.arrow} when it connects;
 * OpenGDS has no Arrow server and no such procedure, and the client (2.x) treats
 * "procedure not found" as "Arrow disabled", so no stand-in is registered here.
 */
public final class Launcher {
    private static final String USER = "neo4j";

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("--import")) {
            System.exit(importOffline(Path.of(args[1]).toAbsolutePath(), List.of(args).subList(2, args.length)));
        }
        if (args.length != 3) {
            System.err.println("usage: Launcher PORT DATA_DIR GDS_JAR_DIR (password in NEO4J_PASSWORD)");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        Path home = Path.of(args[1]).toAbsolutePath();
        Path gdsJars = Path.of(args[2]).toAbsolutePath();
        String password = System.getenv("NEO4J_PASSWORD");
        if (password == null || password.length() < 8) {
            System.err.println("NEO4J_PASSWORD must be set to at least 8 characters");
            System.exit(2);
        }

        // GDS registers procedures only from jars found in the plugins directory, even when the same
        // classes are on the class path (the class path copy serves the kernel extension).
        Path plugins = home.resolve("plugins");
        installPlugins(gdsJars, plugins);

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.plugin_dir, plugins)
                .setConfig(GraphDatabaseSettings.procedure_unrestricted, List.of("gds.*"))
                .setConfig(GraphDatabaseSettings.pagecache_memory, pageCacheBytes())
                .build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            dbms.shutdown();
            stopped.countDown();
        }, "medfraud-neo4j-shutdown"));

        setPassword(dbms.database("system"), password);
        GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        String gdsVersion = db.executeTransactionally(
                "RETURN gds.version() AS v", Map.of(), result -> String.valueOf(result.next().get("v")));
        awaitBolt(port, Duration.ofSeconds(60));
        System.out.println("medfraud-neo4j ready bolt://127.0.0.1:" + port + " gds=" + gdsVersion);
        System.out.flush();
        stopped.await();
    }

    /**
     * The same layout as the server's (data under DATA_DIR/data, configuration read from
     * DATA_DIR/conf if present), so the server started on DATA_DIR afterwards finds the database.
     */
    private static int importOffline(Path home, List<String> importArgs) throws IOException {
        try (DefaultFileSystemAbstraction fs = new DefaultFileSystemAbstraction()) {
            ExecutionContext context = new ExecutionContext(home, home.resolve("conf"), System.out, System.err, fs);
            return new CommandLine(new ImportCommand.Full(context)).execute(importArgs.toArray(String[]::new));
        }
    }

    private static void installPlugins(Path gdsJars, Path plugins) throws IOException {
        Files.createDirectories(plugins);
        try (Stream<Path> old = Files.list(plugins)) {
            for (Path jar : (Iterable<Path>) old::iterator) {
                if (jar.getFileName().toString().endsWith(".jar")) {
                    Files.delete(jar);
                }
            }
        }
        try (Stream<Path> jars = Files.list(gdsJars)) {
            for (Path jar : (Iterable<Path>) jars::iterator) {
                Files.copy(jar, plugins.resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** The initial user must not be asked to change its password, or no driver could log in. */
    private static void setPassword(GraphDatabaseService system, String password) {
        try {
            system.executeTransactionally(
                    "ALTER USER " + USER + " SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
        } catch (RuntimeException e) {
            // A restart on the same data directory with the same password: nothing to change.
            if (!String.valueOf(e.getMessage()).contains("Old password and new password cannot be the same")) {
                throw e;
            }
        }
    }

    private static Long pageCacheBytes() {
        String mb = System.getenv("NEO4J_PAGECACHE_MB");
        return ByteUnit.mebiBytes(mb == null || mb.isBlank() ? 512 : Long.parseLong(mb.trim()));
    }

    private static void awaitBolt(int port, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Bolt did not open on 127.0.0.1:" + port, e);
                }
                Thread.sleep(100);
            }
        }
    }
}
