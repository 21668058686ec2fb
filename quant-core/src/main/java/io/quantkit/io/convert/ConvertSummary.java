package io.quantkit.io.convert;

import io.quantkit.io.Container;
import java.nio.file.Path;
import java.util.List;

/**
 * The result of a conversion.
 *
 * @param output       the file written
 * @param container    its container
 * @param tensors      per-tensor reports, in output order
 * @param bytesIn      stored tensor bytes read from the input
 * @param bytesOut     size of the output file
 * @param dataBytesOut stored tensor bytes in the output (without header and padding)
 * @param parameters   elements over all tensors
 * @param seconds      wall time
 * @param threads      worker threads used
 */
public record ConvertSummary(Path output, Container container, List<TensorReport> tensors, long bytesIn,
        long bytesOut, long dataBytesOut, long parameters, double seconds, int threads) {
    public ConvertSummary {
        tensors = List.copyOf(tensors);
    }

    /** 8 × output tensor bytes / parameters. */
    public double averageBitsPerWeight() {
        return parameters == 0 ? Double.NaN : 8.0 * dataBytesOut / parameters;
    }

    /** Input tensor megabytes (10^6) per second. */
    public double megabytesPerSecond() {
        return seconds <= 0 ? Double.NaN : bytesIn / 1e6 / seconds;
    }

    /** Tensors stored differently from what their rule asked for. */
    public long fallbacks() {
        return tensors.stream().filter(t -> t.fallback() != null).count();
    }
}
