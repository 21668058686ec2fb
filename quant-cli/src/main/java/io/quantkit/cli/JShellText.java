package io.quantkit.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import jdk.jshell.DeclarationSnippet;
import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.UnresolvedReferenceException;

/**
 * How a notebook cell's failure is put into words, shared by the Jupyter kernel and the test that runs the notebooks,
 * so both report a failed snippet the same way: its first line of code, the compiler's message on one line, the
 * snippet's own exception with its stack; and how a cell is cut into snippets.
 */
public final class JShellText {
    private JShellText() {
    }

    /** One complete snippet of a cell and the line (1-based, in the cell) its code starts on. */
    public record Piece(String source, int line) {
    }

    /**
     * Cuts {@code code} into complete snippets with JShell's own analysis (as the tool does when it reads a file).
     * Throws {@link IllegalArgumentException} with "line N: ..." for a JShell command (a line starting with
     * {@code /}: a cell is plain Java) or for text that ends inside an unfinished snippet.
     */
    public static List<Piece> split(SourceCodeAnalysis sca, String code) {
        List<Piece> pieces = new ArrayList<>();
        String rest = code;
        int line = 1;
        while (true) {
            SourceCodeAnalysis.CompletionInfo ci = sca.analyzeCompletion(rest);
            if (ci.completeness() == SourceCodeAnalysis.Completeness.EMPTY) {
                return pieces;
            }
            String head = firstLine(rest);
            int at = line + leadingCommentLines(rest);
            if (head.startsWith("/") && !head.startsWith("//") && !head.startsWith("/*")) {
                throw new IllegalArgumentException("line " + at + ": JShell command '" + head.split(" ")[0]
                        + "' (a notebook cell is plain Java)");
            }
            if (!ci.completeness().isComplete()) {
                throw new IllegalArgumentException("line " + at + ": the text ends inside an unfinished snippet ("
                        + head + ")");
            }
            String eaten = rest.substring(0, rest.length() - ci.remaining().length());
            pieces.add(new Piece(ci.source(), line + leadingCommentLines(eaten)));
            line += (int) eaten.chars().filter(c -> c == '\n').count();
            rest = ci.remaining();
        }
    }

    /**
     * What went wrong with one evaluation event, or null: a rejected snippet (the compiler's messages), one that
     * refers to names not defined (with {@code definedButUnresolvedFails}, also a method accepted with unresolved
     * references, which would fail only when called), or an exception.
     */
    public static String failure(JShell js, SnippetEvent ev, boolean definedButUnresolvedFails) {
        Snippet sn = ev.snippet();
        if (ev.status() == Snippet.Status.REJECTED) {
            return "does not compile: " + js.diagnostics(sn).map(JShellText::describe).collect(Collectors.joining("; "));
        }
        if (ev.status() == Snippet.Status.RECOVERABLE_NOT_DEFINED
                || (definedButUnresolvedFails && ev.status() == Snippet.Status.RECOVERABLE_DEFINED)) {
            return "refers to something not defined: " + unresolved(js, sn);
        }
        if (ev.exception() != null) {
            return "threw " + describe(ev.exception());
        }
        return null;
    }

    private static int leadingCommentLines(String text) {
        int lead = 0;
        for (String l : text.split("\n", -1)) {
            if (!l.isBlank() && !l.strip().startsWith("//")) {
                break;
            }
            lead++;
        }
        return lead;
    }

    /** The first line of code of a snippet (leading blank and comment lines skipped), with " ..." if more follows. */
    public static String firstLine(String s) {
        List<String> lines = new ArrayList<>();
        for (String l : s.strip().split("\n")) {
            if (lines.isEmpty() && (l.isBlank() || l.strip().startsWith("//"))) {
                continue;
            }
            lines.add(l.strip());
        }
        if (lines.isEmpty()) {
            return s.strip();
        }
        return lines.size() == 1 ? lines.get(0) : lines.get(0) + " ...";
    }

    /** A compiler diagnostic on one line. */
    public static String describe(Diag d) {
        return d.getMessage(null).replace('\n', ' ');
    }

    /** A snippet's exception: class, message and the snippet's stack; or which snippet had an unresolved name. */
    public static String describe(JShellException ex) {
        if (ex instanceof EvalException ee) {
            StringBuilder sb = new StringBuilder(ee.getExceptionClassName()).append(": ").append(ee.getMessage());
            for (StackTraceElement el : ee.getStackTrace()) {
                sb.append("\n    at ").append(el);
            }
            return sb.toString();
        }
        if (ex instanceof UnresolvedReferenceException ure) {
            return "an unresolved reference in " + firstLine(ure.getSnippet().source());
        }
        return ex.toString();
    }

    /** The names a declaration still waits for, comma-separated ("?" for other snippets). */
    public static String unresolved(JShell js, Snippet sn) {
        if (sn instanceof DeclarationSnippet d) {
            return String.join(", ", js.unresolvedDependencies(d).collect(Collectors.toList()));
        }
        return "?";
    }
}
