package io.quantkit.quant.ggml;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Reads the golden files written by reference/ggml/gen_golden.py. */
record GoldenFile(String type, List<Case> cases) {

    /** One case: input floats (null for decode-only types), expected block bytes, expected decoded floats. */
    record Case(String name, int rows, int cols, float[] x, byte[] q, float[] y) {
        @Override
        public String toString() {
            return name + " [" + rows + "x" + cols + "]";
        }
    }

    static GoldenFile load(String type) {
        String res = "/reference/ggml/" + type + ".txt";
        try (InputStream in = GoldenFile.class.getResourceAsStream(res)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + res);
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            List<Case> cases = new ArrayList<>();
            String name = null;
            int rows = 0;
            int cols = 0;
            float[] x = null;
            byte[] q = null;
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                if (line.startsWith("case ")) {
                    String[] p = line.split(" ");
                    name = p[1];
                    rows = Integer.parseInt(p[2].substring("rows=".length()));
                    cols = Integer.parseInt(p[3].substring("cols=".length()));
                    x = null;
                    q = null;
                } else if (line.startsWith("x ")) {
                    x = floats(line.substring(2));
                } else if (line.startsWith("q ")) {
                    q = HexFormat.of().parseHex(line.substring(2));
                } else if (line.startsWith("y ")) {
                    cases.add(new Case(name, rows, cols, x, q, floats(line.substring(2))));
                } else {
                    throw new IllegalStateException("bad line in " + res + ": " + line);
                }
            }
            return new GoldenFile(type, cases);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static float[] floats(String hex) {
        ByteBuffer b = ByteBuffer.wrap(HexFormat.of().parseHex(hex)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }
}
