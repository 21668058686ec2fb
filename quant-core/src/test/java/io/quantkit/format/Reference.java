package io.quantkit.format;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** Reads the committed reference files written by /reference/formats/*.py (whitespace-separated text). */
final class Reference {
    private Reference() {
    }

    /** The non-comment lines of a resource under reference/formats/, split on whitespace. */
    static List<String[]> rows(String name) {
        String path = "/reference/formats/" + name;
        try (InputStream raw = Reference.class.getResourceAsStream(path)) {
            if (raw == null) {
                throw new IllegalStateException("Missing reference resource " + path);
            }
            InputStream in = name.endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            List<String[]> out = new ArrayList<>();
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (!line.isEmpty() && line.charAt(0) != '#') {
                    out.add(line.trim().split("\\s+"));
                }
            }
            if (out.isEmpty()) {
                throw new IllegalStateException("Empty reference resource " + path);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The whole (gunzipped) content of a binary resource under reference/formats/, little-endian. */
    static ByteBuffer binary(String name) {
        String path = "/reference/formats/" + name;
        try (InputStream raw = Reference.class.getResourceAsStream(path)) {
            if (raw == null) {
                throw new IllegalStateException("Missing reference resource " + path);
            }
            InputStream in = name.endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
            return ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int hex(String s) {
        return Integer.parseUnsignedInt(s, 16);
    }

    static long hexLong(String s) {
        return Long.parseUnsignedLong(s, 16);
    }

    static float f32(String hexBits) {
        return Float.intBitsToFloat(hex(hexBits));
    }

    /** Same float: identical bits, or both NaN. */
    static boolean sameFloat(float a, float b) {
        return Float.floatToRawIntBits(a) == Float.floatToRawIntBits(b) || (Float.isNaN(a) && Float.isNaN(b));
    }
}
