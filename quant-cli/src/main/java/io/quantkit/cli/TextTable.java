package io.quantkit.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain-text table with aligned columns: text columns left-aligned, columns declared numeric right-aligned.
 * Mutable builder; not thread-safe.
 */
public final class TextTable {
    private final List<String> headers;
    private final boolean[] numeric;
    private final List<List<String>> rows = new ArrayList<>();

    private TextTable(List<String> headers, boolean[] numeric) {
        this.headers = headers;
        this.numeric = numeric;
    }

    /**
     * A table with these column headers; a header starting with {@code '>'} marks a right-aligned (numeric)
     * column, the {@code '>'} itself is not printed.
     */
    public static TextTable of(String... headers) {
        List<String> h = new ArrayList<>();
        boolean[] num = new boolean[headers.length];
        for (int i = 0; i < headers.length; i++) {
            num[i] = headers[i].startsWith(">");
            h.add(num[i] ? headers[i].substring(1) : headers[i]);
        }
        return new TextTable(h, num);
    }

    /** Adds a row; it must have one cell per column. */
    public TextTable row(Object... cells) {
        if (cells.length != headers.size()) {
            throw new IllegalArgumentException("row has " + cells.length + " cells, the table " + headers.size());
        }
        List<String> r = new ArrayList<>();
        for (Object c : cells) {
            r.add(String.valueOf(c));
        }
        rows.add(r);
        return this;
    }

    /** Prints the table: header, a rule, the rows. */
    public void print(PrintWriter out) {
        int[] w = new int[headers.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = headers.get(i).length();
            for (List<String> r : rows) {
                w[i] = Math.max(w[i], r.get(i).length());
            }
        }
        printRow(out, headers, w);
        StringBuilder rule = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            rule.append(i == 0 ? "" : "  ").append("-".repeat(w[i]));
        }
        out.println(rule);
        for (List<String> r : rows) {
            printRow(out, r, w);
        }
    }

    private void printRow(PrintWriter out, List<String> cells, int[] w) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            String c = cells.get(i);
            String pad = " ".repeat(w[i] - c.length());
            sb.append(i == 0 ? "" : "  ");
            sb.append(numeric[i] ? pad + c : (i == w.length - 1 ? c : c + pad));
        }
        out.println(sb.toString().stripTrailing());
    }
}
