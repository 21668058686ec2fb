package io.quantkit.cli;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code quant jshell [NOTEBOOK.jsh]}: JShell with the project's classpath. The {@code ./quant} launcher runs
 * jshell directly (one JVM fewer); this command does the same when the jar is run with {@code java -jar}.
 */
@Command(name = "jshell", mixinStandardHelpOptions = true,
        description = {"Open JShell with quantkit's classes, running a notebook first.",
            "The class path is quant-cli/target/quant-cli.jar plus quant-cli/target/lib/*. Notebooks live in "
                + "docs/notebooks/; one that ends with /exit runs as a script."})
final class JshellCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "NOTEBOOK.jsh", description = "A JShell script to run first.")
    Path notebook;

    @Override
    public Integer call() throws Exception {
        if (notebook != null && !Files.isRegularFile(notebook)) {
            throw new NoSuchFileException(notebook.toString());
        }
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        if (!Files.isExecutable(jshell)) {
            throw new IllegalStateException("jshell not found at " + jshell + " (a full JDK 17+ is needed, not a JRE)");
        }
        List<String> cmd = new ArrayList<>(List.of(jshell.toString(), "--class-path", classPath()));
        if (notebook != null) {
            cmd.add(notebook.toString());
        }
        return new ProcessBuilder(cmd).inheritIO().start().waitFor();
    }

    /** quant-cli.jar and every jar in its lib/ folder, as the launcher builds it. */
    static String classPath() throws URISyntaxException {
        Path jar = Path.of(JshellCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        StringBuilder cp = new StringBuilder(jar.toString());
        File[] libs = jar.resolveSibling("lib").toFile().listFiles((d, n) -> n.endsWith(".jar"));
        if (libs != null) {
            java.util.Arrays.sort(libs);
            for (File f : libs) {
                cp.append(File.pathSeparatorChar).append(f.getPath());
            }
        } else {
            cp.append(File.pathSeparatorChar).append(System.getProperty("java.class.path"));
        }
        return cp.toString();
    }
}
