package io.quantkit.io.hf;

import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.util.Objects;

/**
 * The row order of a q or k projection in llama.cpp's (and Meta's, and llama2.c's) layout, read from one in
 * Hugging Face's layout.
 *
 * <p>Hugging Face rotates dimension {@code j} of a head with dimension {@code j + headSize/2} ({@code rotate_half});
 * the original layout rotates adjacent pairs {@code (2j, 2j+1)}. The HF conversion scripts (and llama2.c's
 * export) therefore permute the rows of q_proj and k_proj within each head: HF row {@code h*hs + i*hs/2 + j} holds
 * original row {@code h*hs + 2j + i} (i in {0, 1}, j &lt; hs/2). This class undoes that: output row
 * {@code h*hs + 2j + i} is HF row {@code h*hs + i*hs/2 + j}, the permutation llama.cpp's convert_hf_to_gguf applies.
 */
public final class RopePermutation {
    private final long rows;
    private final long headSize;

    private RopePermutation(long rows, int heads) {
        if (heads <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0) {
            throw new IllegalArgumentException(rows + " rows are not " + heads + " heads of an even size");
        }
        this.rows = rows;
        this.headSize = rows / heads;
    }

    /** The permutation of a projection with {@code rows} rows in {@code heads} heads. */
    public static RopePermutation of(long rows, int heads) {
        return new RopePermutation(rows, heads);
    }

    /** The HF row that output (llama.cpp layout) row {@code r} comes from. */
    public long sourceRow(long r) {
        Objects.checkIndex(r, rows);
        long h = r / headSize;
        long k = r % headSize;
        return h * headSize + (k & 1) * (headSize / 2) + (k >> 1);
    }

    /** A lazy view of {@code hf} (a 2-D tensor in HF row order) in llama.cpp row order. */
    public Tensor view(Tensor hf) {
        return new View(hf, this);
    }

    private static final class View implements Tensor {
        private final Tensor src;
        private final RopePermutation p;
        private final long cols;

        View(Tensor src, RopePermutation p) {
            Shape s = src.shape();
            if (s.rank() != 2 || s.dim(0) != p.rows) {
                throw new IllegalArgumentException("tensor of shape " + s + " does not have " + p.rows + " rows");
            }
            this.src = src;
            this.p = p;
            this.cols = s.dim(1);
        }

        @Override
        public Shape shape() {
            return src.shape();
        }

        @Override
        public String format() {
            return src.format();
        }

        @Override
        public float getFloat(long index) {
            Objects.checkIndex(index, src.shape().numel());
            return src.getFloat(p.sourceRow(index / cols) * cols + index % cols);
        }

        @Override
        public void dequantize(long from, float[] dst, int off, int len) {
            Objects.checkFromIndexSize(from, len, src.shape().numel());
            Objects.checkFromIndexSize(off, len, dst.length);
            long i = from;
            long end = from + len;
            while (i < end) {
                long row = i / cols;
                long col = i % cols;
                int n = (int) Math.min(cols - col, end - i);
                src.dequantize(p.sourceRow(row) * cols + col, dst, off + (int) (i - from), n);
                i += n;
            }
        }

        @Override
        public long storageBytes() {
            return src.storageBytes();
        }
    }
}
