package io.quantkit.io.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quantkit.io.Checkpoint;
import io.quantkit.io.Checkpoints;
import io.quantkit.io.TensorInfo;
import io.quantkit.quant.Codecs;
import io.quantkit.quant.Scheme;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opt-in ({@code mvn verify -Dtest.groups=slow -Dtest.excludedGroups= -Dtest=LargeConvertSlowTest}): generates a
 * 6 GiB bf16 safetensors checkpoint (24 tensors of 8192 x 16384, seeded) and converts it to q4_0 GGUF in a child
 * JVM limited to {@code -Xmx512m}: memory must be a few chunks, not the model. Needs ~8 GB of free disk.
 */
@Tag("slow")
class LargeConvertSlowTest {
    static final int TENSORS = 24;
    static final int ROWS = 8192;
    static final int COLS = 16384;
    static final long SEED = 0x6_6161_6161L;

    @TempDir
    Path dir;

    /** Writes the checkpoint with plain channel writes (not our writer): sorted names t00..t23, bf16 data. */
    static void generate(Path p) throws IOException {
        long tensorBytes = 2L * ROWS * COLS;
        StringBuilder h = new StringBuilder("{");
        for (int i = 0; i < TENSORS; i++) {
            h.append(i == 0 ? "" : ",").append(String.format("\"t%02d\":{\"dtype\":\"BF16\",\"shape\":[%d,%d],"
                    + "\"data_offsets\":[%d,%d]}", i, ROWS, COLS, i * tensorBytes, (i + 1) * tensorBytes));
        }
        h.append('}');
        while ((8 + h.length()) % 8 != 0) {
            h.append(' ');
        }
        byte[] hb = h.toString().getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate(8 + hb.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(hb.length).put(hb).flip();
            ch.write(head);
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 24).order(ByteOrder.LITTLE_ENDIAN);
            long x = SEED;
            for (long done = 0; done < TENSORS * tensorBytes; done += buf.capacity()) {
                buf.clear();
                while (buf.hasRemaining()) {
                    x = x * 6364136223846793005L + 1442695040888963407L; // LCG; bf16 in about +-0.06
                    int mant = (int) (x >>> 57);
                    int sign = (int) ((x >>> 56) & 1) << 15;
                    int exp = 117 + (int) ((x >>> 40) & 3);
                    buf.putShort((short) (sign | exp << 7 | mant));
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
            }
        }
    }

    @Test
    void sixGibBf16ToQ4_0InHalfAGigabyteHeap() throws Exception {
        Path in = dir.resolve("big.safetensors");
        generate(in);
        org.junit.jupiter.api.Assertions.assertTrue(Files.size(in) > 6L * (1L << 30), "input is 6 GiB");
        Path out = dir.resolve("big-q4_0.gguf");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), ConvertMain.class.getName(),
                in.toString(), out.toString(), "q4_0", "2"));
        Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, proc.waitFor(), log);
        System.out.println(log.strip());
        try (Checkpoint src = Checkpoints.open(in); Checkpoint got = Checkpoints.open(out)) {
            assertEquals(TENSORS, got.tensors().size());
            for (String name : new String[] {"t00", "t23"}) {
                TensorInfo o = got.info(name).orElseThrow();
                assertEquals("Q4_0", o.format());
                // the last 4 rows: bytes equal the ggml codec on the same rows
                long from = (long) (ROWS - 4) * COLS / 32 * 18;
                byte[] ours = new byte[4 * COLS / 32 * 18];
                got.rawBytes(o, from, ours.length).get(ours);
                byte[] want = new byte[ours.length];
                Codecs.forScheme(Scheme.parse("q4_0")).quantize(new RowSlice(src.tensor(name), ROWS - 4, 4))
                        .arrays().get(0).data().get(want);
                assertArrayEquals(want, ours, name);
            }
        }
    }

    /** The child JVM: converts and prints the summary. */
    public static final class ConvertMain {
        public static void main(String[] args) throws Exception {
            ConvertSummary s = Converter.convert(Path.of(args[0]), Path.of(args[1]),
                    Converter.Options.of(Scheme.parse(args[2])).withThreads(Integer.parseInt(args[3])));
            System.out.printf("tensors %d, in %d bytes, out %d bytes, %.3f bpw, %.1f s, %.1f MB/s, max heap %d MiB%n",
                    s.tensors().size(), s.bytesIn(), s.bytesOut(), s.averageBitsPerWeight(), s.seconds(),
                    s.megabytesPerSecond(), Runtime.getRuntime().maxMemory() >> 20);
        }
    }
}
