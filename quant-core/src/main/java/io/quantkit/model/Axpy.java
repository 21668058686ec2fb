package io.quantkit.model;

/**
 * The vector loops under the forward pass's and the trainer's matrix products: {@code s[j] += v·b[j]} over a range of
 * {@code j}, for one or four accumulator rows. Every array of a loop is indexed by the same {@code j} with no offset,
 * the one loop shape C2 on JDK 17 turns into vector instructions; each accumulator gets its products one after another
 * in the order of the calls, so callers keep the bits of the plain ordered sum.
 */
public final class Axpy {
    private Axpy() {
    }

    /** {@code y[j] += v · x[j]} for {@code from <= j < to}. */
    public static void axpy(float[] y, float v, float[] x, int from, int to) {
        for (int j = from; j < to; j++) {
            y[j] += v * x[j];
        }
    }

    /** {@code s_r[j] += v_r · b[j]} for the four rows, {@code from <= j < to}. */
    public static void axpy4(float[] s0, float[] s1, float[] s2, float[] s3, float v0, float v1, float v2, float v3,
                             float[] b, int from, int to) {
        for (int j = from; j < to; j++) {
            float bj = b[j];
            s0[j] += v0 * bj;
            s1[j] += v1 * bj;
            s2[j] += v2 * bj;
            s3[j] += v3 * bj;
        }
    }

    /**
     * {@code s_r[j] = (s_r[j] + v_r · b[j]) + u_r · d[j]}: two steps of {@link #axpy4} in one pass, the same two
     * roundings in the same order with half the loads and stores of the accumulators.
     */
    public static void axpy4x2(float[] s0, float[] s1, float[] s2, float[] s3, float v0, float v1, float v2, float v3,
                               float[] b, float u0, float u1, float u2, float u3, float[] d, int from, int to) {
        for (int j = from; j < to; j++) {
            float bj = b[j];
            float dj = d[j];
            s0[j] = s0[j] + v0 * bj + u0 * dj;
            s1[j] = s1[j] + v1 * bj + u1 * dj;
            s2[j] = s2[j] + v2 * bj + u2 * dj;
            s3[j] = s3[j] + v3 * bj + u3 * dj;
        }
    }
}
