package io.quantkit.bench;

import io.quantkit.io.convert.ConvertSummary;
import io.quantkit.io.convert.Converter;
import io.quantkit.quant.Scheme;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Streaming conversion speed against a plain copy of the same bytes (issue 3's benchmark): generates a bf16
 * safetensors checkpoint (seeded; {@code --tensors} tensors of 4096 x 8192, 64 MiB each), then times, on 1 and 2
 * threads, a plain copy (FileChannel.transferTo + fsync, which the converter's atomic output also does), the
 * converter's own copy path (bf16 → bf16 safetensors), bf16 → q8_0 GGUF, → q4_0 GGUF and → int4-outliers
 * safetensors. Prints wall seconds, process CPU seconds and MB/s of input; each the best (least) of
 * {@code --repeat} runs, taken separately. The input is read once before timing so every run reads it from the page cache.
 *
 * <p>Usage: {@code java -Xmx2g -cp quant-bench/target/benchmarks.jar io.quantkit.bench.ConvertBench
 * [--dir D] [--tensors N] [--repeat R] [--schemes s1,s2] [--threads 1,2] [--input FILE]}; with {@code --input}
 * the input is that file (generated there first if it does not exist, and kept), so a profiler attached to a
 * later run sees only the conversions.
 */
public final class ConvertBench {
    static final int ROWS = 4096;
    static final int COLS = 8192;

    private ConvertBench() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"));
        int tensors = 8;
        int repeat = 2;
        String schemes = "copy,bf16,q8_0,q4_0,int4-outliers";
        int[] threadCounts = {1, 2};
        Path given = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--tensors" -> tensors = Integer.parseInt(args[++i]);
                case "--repeat" -> repeat = Integer.parseInt(args[++i]);
                case "--schemes" -> schemes = args[++i];
                case "--input" -> given = Path.of(args[++i]);
                case "--threads" -> threadCounts = java.util.Arrays.stream(args[++i].split(","))
                        .mapToInt(Integer::parseInt).toArray();
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Path work = Files.createTempDirectory(dir, "convert-bench");
        Path in = given != null ? given : work.resolve("in.safetensors");
        try {
            if (given == null) {
                generate(in, tensors);
            } else if (!Files.exists(given)) {
                generate(given, tensors); // kept for the next run (profiling without the generation)
            }
            long bytes = Files.size(in);
            warm(in);
            System.out.printf(Locale.ROOT, "input: %,d bytes bf16 (%d tensors of %d x %d), %d cores, load %.1f%n", bytes,
                    tensors, ROWS, COLS, Runtime.getRuntime().availableProcessors(),
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            System.out.printf(Locale.ROOT, "%-28s %7s %9s %9s %10s %10s%n", "job", "threads", "wall s", "cpu s",
                    "MB/s wall", "MB/s cpu");
            for (String s : schemes.split(",")) {
                for (int threads : threadCounts) {
                    double bestWall = Double.MAX_VALUE;
                    double bestCpu = Double.MAX_VALUE;
                    for (int r = 0; r < repeat; r++) {
                        Path out = work.resolve("out" + (s.equals("q8_0") || s.equals("q4_0") ? ".gguf" : ".safetensors"));
                        Files.deleteIfExists(out);
                        long c0 = cpuNanos();
                        long t0 = System.nanoTime();
                        if (s.equals("copy")) {
                            copy(in, out);
                        } else {
                            ConvertSummary sum = Converter.convert(in, out, Converter.Options.of(Scheme.parse(s))
                                    .withThreads(threads).withForce(true));
                            if (sum.tensors().size() != tensors) {
                                throw new IllegalStateException("converted " + sum.tensors().size() + " tensors");
                            }
                        }
                        double wall = (System.nanoTime() - t0) / 1e9;
                        double cpu = (cpuNanos() - c0) / 1e9;
                        bestWall = Math.min(bestWall, wall);
                        bestCpu = Math.min(bestCpu, cpu);
                        Files.deleteIfExists(out);
                    }
                    String job = s.equals("copy") ? "plain copy (transferTo+fsync)"
                            : "bf16 -> " + s + (s.startsWith("q") ? " gguf" : " safetensors");
                    System.out.printf(Locale.ROOT, "%-28s %7d %9.2f %9.2f %10.0f %10.0f%n", job, threads, bestWall,
                            bestCpu, bytes / 1e6 / bestWall, bytes / 1e6 / bestCpu);
                    if (s.equals("copy")) {
                        break; // one thread only
                    }
                }
            }
        } finally {
            if (given == null) {
                Files.deleteIfExists(in);
            }
            Files.deleteIfExists(work);
        }
    }

    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    static void copy(Path in, Path out) throws IOException {
        try (FileChannel src = FileChannel.open(in, StandardOpenOption.READ);
                FileChannel dst = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long n = src.size();
            for (long p = 0; p < n; ) {
                p += src.transferTo(p, n - p, dst);
            }
            dst.force(true);
        }
    }

    static void warm(Path in) throws IOException {
        ByteBuffer b = ByteBuffer.allocateDirect(1 << 24);
        try (FileChannel ch = FileChannel.open(in, StandardOpenOption.READ)) {
            while (ch.read(b) > 0) {
                b.clear();
            }
        }
    }

    /** bf16 values from a seeded LCG, roughly N(0, 0.03)-sized, written with plain channel writes. */
    static void generate(Path p, int tensors) throws IOException {
        long tensorBytes = 2L * ROWS * COLS;
        List<String> entries = new ArrayList<>();
        for (int i = 0; i < tensors; i++) {
            entries.add(String.format(Locale.ROOT, "\"w%03d\":{\"dtype\":\"BF16\",\"shape\":[%d,%d],\"data_offsets\":[%d,%d]}",
                    i, ROWS, COLS, i * tensorBytes, (i + 1) * tensorBytes));
        }
        StringBuilder h = new StringBuilder("{").append(String.join(",", entries)).append('}');
        while ((8 + h.length()) % 8 != 0) {
            h.append(' ');
        }
        byte[] hb = h.toString().getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate(8 + hb.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(hb.length).put(hb).flip();
            ch.write(head);
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 22).order(ByteOrder.LITTLE_ENDIAN);
            long x = 0x5EED_C0DEL;
            for (long done = 0; done < tensors * tensorBytes; done += buf.capacity()) {
                buf.clear();
                while (buf.hasRemaining()) {
                    x = x * 6364136223846793005L + 1442695040888963407L;
                    float v = (float) (((x >>> 40) & 0xFFFF) - 32768) / 32768f * 0.06f;
                    buf.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
            }
        }
    }
}
