package io.quantkit.jupyter;

import io.quantkit.cli.JShellText;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.BaseKernelBuilder;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;
import org.dflib.jjava.jupyter.kernel.LanguageInfo;
import org.dflib.jjava.jupyter.kernel.ReplacementOptions;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;

/**
 * A Jupyter kernel for the notebooks: each cell is cut into snippets with JShell's own analysis and evaluated by
 * one {@link JShell} (local execution engine, so a cell's {@code System.out} is the cell's output stream) whose
 * class path is this JVM's: quantkit's jars. The Jupyter side (ZeroMQ sockets, message signing, the
 * execute/kernel_info/shutdown handlers, output streams) is jjava-jupyter's {@link BaseKernel}.
 *
 * <p>A cell fails, as it does in {@code NotebooksTest}, on a snippet that does not compile, one left with
 * unresolved references, an exception (a notebook's failed {@code check(...)} included), an unfinished snippet
 * at the end of the cell, or a JShell command (notebooks are plain Java). The value of a cell whose last snippet
 * is an expression is its result.
 *
 * <p>{@code java -cp quant-jupyter.jar:lib/* io.quantkit.jupyter.Kernel CONNECTION_FILE} (what the kernelspec
 * written by {@code quant-jupyter/install-kernel.sh} runs).
 */
public final class Kernel extends BaseKernel {
    /** The kernelspec name (folder under {@code kernels/}). */
    public static final String NAME = "quantkit";

    private final JShell shell;

    private Kernel(String name, String version, org.dflib.jjava.jupyter.kernel.history.HistoryManager history,
                   org.dflib.jjava.jupyter.kernel.JupyterIO io, org.dflib.jjava.jupyter.kernel.comm.CommManager comms,
                   org.dflib.jjava.jupyter.kernel.display.Renderer renderer,
                   org.dflib.jjava.jupyter.kernel.magic.MagicsRegistry magics,
                   org.dflib.jjava.jupyter.kernel.util.StringStyler errorStyler) {
        super(name, version, new LanguageInfo("java", Runtime.version().toString(), "text/x-java", ".jshell", "java",
                "java", null), List.of(), history, io, comms, renderer, null, magics, false, errorStyler);
        this.shell = newShell();
    }

    /** A JShell over this JVM's class path, evaluating in this JVM. */
    static JShell newShell() {
        return newShell(System.getProperty("java.class.path"));
    }

    /** A JShell over {@code classPath} (entries separated by the platform's path separator), evaluating in this JVM. */
    static JShell newShell(String classPath) {
        JShell js = JShell.builder().executionEngine("local").build();
        for (String e : classPath.split(File.pathSeparator)) {
            if (!e.isBlank()) {
                js.addToClasspath(e);
            }
        }
        return js;
    }

    /** Builds the kernel with jjava-jupyter's defaults for I/O, rendering and history. */
    static final class Builder extends BaseKernelBuilder<Builder, Kernel> {
        @Override
        public Kernel build() {
            return new Kernel(buildName(), buildVersion(), buildHistoryManager(), buildJupyterIO(buildJupyterIOEncoding()),
                    buildCommManager(), buildRenderer(), buildMagicsRegistry(), buildErrorStyler());
        }
    }

    /** A cell that failed: the message says which snippet and why. */
    static final class CellError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CellError(String message) {
            super(message);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: java -cp ... io.quantkit.jupyter.Kernel CONNECTION_FILE");
            System.exit(2);
        }
        KernelConnectionProperties props = KernelConnectionProperties.parse(
                Files.readString(Path.of(args[0]), StandardCharsets.UTF_8));
        JupyterConnection connection = new JupyterConnection(props);
        Kernel kernel = new Builder().name(NAME).version("1").build();
        kernel.becomeHandlerForConnection(connection);
        connection.connect();
        connection.waitUntilClose();
        kernel.shell.close();
        System.exit(0);
    }

    @Override
    public DisplayData eval(String code) {
        Object v = evalRaw(code);
        return v == null || v.toString().isEmpty() ? null : new DisplayData(v.toString());
    }

    @Override
    public Object evalRaw(String code) {
        return run(shell, code);
    }

    /**
     * Evaluates {@code code} snippet by snippet in {@code js}; returns the value of the last snippet if it is an
     * expression (JShell's text of it), else null; throws {@link CellError} on the first failure.
     */
    static String run(JShell js, String code) {
        List<JShellText.Piece> pieces;
        try {
            pieces = JShellText.split(js.sourceCodeAnalysis(), code);
        } catch (IllegalArgumentException e) {
            throw new CellError(e.getMessage());
        }
        String last = null;
        for (JShellText.Piece p : pieces) {
            String where = "line " + p.line() + " (" + JShellText.firstLine(p.source()) + ")";
            last = null;
            for (SnippetEvent ev : js.eval(p.source())) {
                String failure = JShellText.failure(js, ev, true);
                if (failure != null) {
                    throw new CellError(where + " " + failure);
                }
                Snippet sn = ev.snippet();
                // a name alone is an EXPRESSION snippet; any other expression becomes a temporary variable ($1)
                boolean expression = sn.kind() == Snippet.Kind.EXPRESSION
                        || sn.subKind() == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND;
                if (expression && ev.causeSnippet() == null) {
                    last = ev.value();
                }
            }
        }
        return last;
    }

    /** A failed cell shows what failed where (the snippet's own stack trace included), not the kernel's stack. */
    @Override
    public List<String> formatError(Throwable e) {
        if (e instanceof CellError) {
            return List.of(e.getMessage().split("\n"));
        }
        return super.formatError(e);
    }

    @Override
    public DisplayData inspect(String code, int at, boolean extraDetail) {
        return null;
    }

    @Override
    public ReplacementOptions complete(String code, int at) {
        int[] anchor = new int[1];
        List<String> options = shell.sourceCodeAnalysis().completionSuggestions(code, at, anchor).stream()
                .map(SourceCodeAnalysis.Suggestion::continuation).distinct().collect(Collectors.toList());
        return options.isEmpty() ? null : new ReplacementOptions(options, anchor[0], at);
    }

    @Override
    public String isComplete(String code) {
        return switch (shell.sourceCodeAnalysis().analyzeCompletion(code).completeness()) {
            case COMPLETE, COMPLETE_WITH_SEMI, EMPTY -> IS_COMPLETE_YES;
            case DEFINITELY_INCOMPLETE, CONSIDERED_INCOMPLETE -> "    ";
            case UNKNOWN -> IS_COMPLETE_BAD;
        };
    }

    @Override
    public void onShutdown(boolean isRestarting) {
        shell.close();
    }
}
