package io.quantkit.model;

/** The scalar kernels of the forward pass. Each output element is summed over its inputs in index order. */
final class Kernels {
    private Kernels() {
    }

    /** Columns per pass of {@link #matmul}. */
    static final int TILE = 1024;

    /** Inputs per block of {@link #matmul}: 64 rows of a tile of W are 256 KiB. */
    static final int KBLOCK = 64;

    /**
     * {@code y[r*out + o] = Σ_i x[r*in + i] · w[i][o]} for rows {@code [r0, r1)} and columns {@code [o0, o1)}, with
     * {@code W} transposed and held as one array per input ({@code w[i]} has {@code out} values). Every element is
     * summed from zero over {@code i} in increasing order, so the bits are those of the plain triple loop and do not
     * depend on how rows or columns are split between threads.
     *
     * <p>Why it is faster: four rows of {@code y} are summed in scratch arrays as long as a row of {@code W}, each step
     * adding one input's row of {@code W} to all four ({@code s[o] += x·w[i][o]}), so every array of the inner loop is
     * indexed by the same {@code o} with no offset, the loop shape C2 on JDK 17 turns into vector instructions (the
     * former flat kernel's {@code y[yo + o] += x·wT[wo + o]}, two offsets in one loop, stayed scalar). Columns go in
     * tiles of {@link #TILE} so the four scratch rows stay in the first-level cache (a single row takes all columns
     * at once), inputs in blocks of {@link #KBLOCK} so a large W is read from memory once per block rather than once
     * per four rows. Tiles of 160 or more columns add two inputs per pass as {@code (s + a·b) + a'·b'}, the same two
     * roundings in the same order with half the loads and stores of {@code s}.
     */
    static void matmul(float[] x, int in, float[][] w, int out, float[] y, int r0, int r1, int o0, int o1) {
        if (r1 <= r0 || o1 <= o0) {
            return;
        }
        float[] s0 = new float[out];
        float[] s1 = r1 - r0 >= 4 ? new float[out] : null;
        float[] s2 = r1 - r0 >= 4 ? new float[out] : null;
        float[] s3 = r1 - r0 >= 4 ? new float[out] : null;
        int tile = r1 - r0 >= 4 ? TILE : o1 - o0; // one row's scratch fits the cache whole: no tiles
        for (int t0 = o0; t0 < o1; t0 += tile) {
            int t1 = Math.min(o1, t0 + tile);
            int width = t1 - t0;
            boolean twoPass = width >= 160;
            // inputs in blocks, so the block of W (KBLOCK rows of one tile) stays in the second-level cache while
            // every group of four rows uses it; partial sums wait in y between blocks (stored floats: same bits)
            for (int i0 = 0; i0 < in; i0 += KBLOCK) {
                int i1 = Math.min(in, i0 + KBLOCK);
                int r = r0;
                for (; r + 4 <= r1; r += 4) {
                    int y0 = r * out + t0;
                    if (i0 == 0) {
                        java.util.Arrays.fill(s0, t0, t1, 0f);
                        java.util.Arrays.fill(s1, t0, t1, 0f);
                        java.util.Arrays.fill(s2, t0, t1, 0f);
                        java.util.Arrays.fill(s3, t0, t1, 0f);
                    } else {
                        System.arraycopy(y, y0, s0, t0, width);
                        System.arraycopy(y, y0 + out, s1, t0, width);
                        System.arraycopy(y, y0 + 2 * out, s2, t0, width);
                        System.arraycopy(y, y0 + 3 * out, s3, t0, width);
                    }
                    int x0 = r * in;
                    int x1 = x0 + in;
                    int x2 = x1 + in;
                    int x3 = x2 + in;
                    int i = i0;
                    if (twoPass) {
                        for (; i + 2 <= i1; i += 2) {
                            Axpy.axpy4x2(s0, s1, s2, s3, x[x0 + i], x[x1 + i], x[x2 + i], x[x3 + i], w[i],
                                    x[x0 + i + 1], x[x1 + i + 1], x[x2 + i + 1], x[x3 + i + 1], w[i + 1], t0, t1);
                        }
                    }
                    for (; i < i1; i++) {
                        Axpy.axpy4(s0, s1, s2, s3, x[x0 + i], x[x1 + i], x[x2 + i], x[x3 + i], w[i], t0, t1);
                    }
                    System.arraycopy(s0, t0, y, y0, width);
                    System.arraycopy(s1, t0, y, y0 + out, width);
                    System.arraycopy(s2, t0, y, y0 + 2 * out, width);
                    System.arraycopy(s3, t0, y, y0 + 3 * out, width);
                }
                for (; r < r1; r++) {
                    int y0 = r * out + t0;
                    if (i0 == 0) {
                        java.util.Arrays.fill(s0, t0, t1, 0f);
                    } else {
                        System.arraycopy(y, y0, s0, t0, width);
                    }
                    int xr = r * in;
                    for (int i = i0; i < i1; i++) {
                        Axpy.axpy(s0, x[xr + i], w[i], t0, t1);
                    }
                    System.arraycopy(s0, t0, y, y0, width);
                }
            }
        }
    }
}
