package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChartTest {

    private static Chart sample() {
        return Chart.xy("quality vs size", "bits per weight", "delta PPL")
                .series("ptq", List.of(new Chart.Point(8.5, 0.006, "q8_0"), new Chart.Point(4.5, 0.27, "q4_0"),
                        new Chart.Point(5.0, 0.1, "q4_1")))
                .series("qat", List.of(new Chart.Point(4.5, 0.05, "q4_0 qat")))
                .size(640, 400);
    }

    @Test
    void writesAPngOfTheRequestedSizeAtomically(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("chart.png");
        sample().writePng(png);
        byte[] bytes = Files.readAllBytes(png);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(bytes, 4));
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(640, img.getWidth());
        assertEquals(400, img.getHeight());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(png), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void sameChartGivesSameBytes() throws IOException {
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        sample().writePng(a);
        sample().writePng(b);
        assertArrayEquals(a.toByteArray(), b.toByteArray());
    }

    @Test
    void histogramDrawsBarsAndRejectsNonsense() throws IOException {
        double[] v = new double[1000];
        for (int i = 0; i < v.length; i++) {
            v[i] = i % 100;
        }
        BufferedImage img = Chart.histogram("values", "x", v, 10).size(300, 200).render();
        boolean coloured = false;
        for (int y = 0; y < img.getHeight() && !coloured; y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y) & 0xffffff;
                if (rgb == 0x1f77b4) {
                    coloured = true;
                    break;
                }
            }
        }
        assertTrue(coloured, "bars drawn in the first palette colour");
        assertThrows(IllegalArgumentException.class, () -> Chart.histogram("t", "x", new double[] {Double.NaN}, 10));
        assertThrows(IllegalArgumentException.class, () -> Chart.histogram("t", "x", v, 0));
        assertThrows(IllegalArgumentException.class, () -> sample().size(10, 100000));
    }
}
