package io.quantkit.train;

/**
 * The training kernels that have a vector implementation (module {@code quant-simd}, found through
 * {@link io.quantkit.simd.Simd#provider}); {@link Ops} holds the scalar loops that specify them and falls back to
 * those when no provider is present. Every method gives the bits of its scalar counterpart for every input: each
 * output element is formed by the same operations in the same order (a product then a sum, never a fused
 * multiply-add; sums in the scalar loop's order), whatever the vector width.
 *
 * <p>Implementations are stateless and thread-safe; each call works on the ranges it is given, so {@link Ops}
 * splits the work among threads exactly as for the scalar loops.
 */
public interface TrainSimd {

    /**
     * {@code C[i, j] (+)= Σ_p A[i, p] · B[p, j]} for the rows {@code i0 <= i < i1} and all columns {@code j < n}:
     * {@code A[i, p]} at {@code a[aOff + i·ars + p·acs]}, {@code B[p, j]} at {@code b[bOff + p·ldb + j]} (rows of B
     * contiguous), {@code C[i, j]} at {@code c[cOff + i·ldc + j]}. Each element is summed from zero over {@code p} in
     * increasing order, then stored or, with {@code accumulate}, added to {@code C}: the scalar
     * {@link Ops#gemm} bit for bit.
     *
     * @param a the left operand
     * @param aOff offset of {@code A[0, 0]}
     * @param ars step between rows of A
     * @param acs step between columns of A
     * @param b the right operand, rows contiguous
     * @param bOff offset of {@code B[0, 0]}
     * @param ldb step between rows of B
     * @param c the result
     * @param cOff offset of {@code C[0, 0]}
     * @param ldc step between rows of C
     * @param i0 first row of C computed
     * @param i1 end (exclusive) of the rows computed
     * @param k the length of the sums
     * @param n columns of C
     * @param accumulate add to C instead of storing
     */
    void gemmRows(float[] a, int aOff, int ars, int acs, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
                  int i0, int i1, int k, int n, boolean accumulate);

    /**
     * {@code out[i] = e^x[i]} for {@code i < n}, the bits of {@link io.quantkit.model.DetMath#exp(double)} (and so of
     * the array form {@link io.quantkit.model.DetMath#exp(double[], double[], double[], int)}) for every argument.
     *
     * @param x the arguments
     * @param out the results (not {@code x})
     * @param n how many
     */
    void exp(double[] x, double[] out, int n);

    /**
     * The forward pass of {@link Ops#attention} for the (sequence, head) pairs {@code from <= b·nHeads + h < to}:
     * the same {@code out} and {@code probs}, bit for bit. Returns false, having written nothing, for a head size it
     * does not handle (the caller then runs the scalar loop).
     *
     * @param out attention output {@code [rows, nHeads·hs]}
     * @param probs probabilities {@code [batch, nHeads, seqLen, seqLen]}, lower triangle written
     * @param q queries {@code [rows, nHeads·hs]}
     * @param k keys {@code [rows, nKv·hs]}
     * @param v values {@code [rows, nKv·hs]}
     * @param seqLen rows of one sequence
     * @param nHeads query heads
     * @param nKv key/value heads
     * @param hs head size
     * @param from first (sequence, head) pair
     * @param to end (exclusive) of the pairs
     * @return whether it handled the pairs
     */
    boolean attention(float[] out, float[] probs, float[] q, float[] k, float[] v, int seqLen, int nHeads, int nKv,
                      int hs, int from, int to);

    /**
     * The backward pass of {@link Ops#attentionBackward} for the (sequence, key/value head) pairs
     * {@code from <= b·nKv + kvh < to}: adds into {@code dq}, {@code dk}, {@code dv} exactly what the scalar loop adds,
     * in its order. Returns false, having written nothing, for a head size it does not handle.
     *
     * @param dq gradient of the queries (added to)
     * @param dk gradient of the keys (added to)
     * @param dv gradient of the values (added to)
     * @param dout gradient of the attention output
     * @param probs the probabilities the forward pass stored
     * @param q queries
     * @param k keys
     * @param v values
     * @param seqLen rows of one sequence
     * @param nHeads query heads
     * @param nKv key/value heads
     * @param hs head size
     * @param from first (sequence, key/value head) pair
     * @param to end (exclusive) of the pairs
     * @return whether it handled the pairs
     */
    boolean attentionBackward(float[] dq, float[] dk, float[] dv, float[] dout, float[] probs, float[] q, float[] k,
                              float[] v, int seqLen, int nHeads, int nKv, int hs, int from, int to);
}
