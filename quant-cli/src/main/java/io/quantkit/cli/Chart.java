package io.quantkit.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import io.quantkit.io.AtomicOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.imageio.ImageIO;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * PNG charts for reports: labelled scatter/line plots (compare draws ΔPPL against bits per weight) and
 * histograms. Rendering is headless and deterministic: the same chart gives the same bytes on the same
 * JDK and fonts (no timestamps, fixed colours and fonts, points drawn in the order given).
 *
 * <pre>{@code
 * Chart.xy("stories260K: quality vs size", "bits per weight", "ΔPPL")
 *      .series("schemes", List.of(new Chart.Point(8.5, 0.006, "q8_0"), new Chart.Point(4.5, 0.27, "q4_0")))
 *      .writePng(Path.of("compare.png"));
 * }</pre>
 *
 * <p>A builder: not thread-safe; each {@link #writePng} renders afresh.
 */
public final class Chart {
    /** Largest image side we draw, in pixels (a typo such as 80000 would allocate gigabytes). */
    static final int MAX_SIDE = 8192;

    /** One point of a series; {@code label} (may be empty) is drawn beside the point. */
    public record Point(double x, double y, String label) {
        public Point {
            Objects.requireNonNull(label, "label");
        }
    }

    private enum Kind { XY, HISTOGRAM }

    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
    };

    private final Kind kind;
    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<String> names = new ArrayList<>();
    private final List<List<Point>> series = new ArrayList<>();
    private boolean lines;
    private boolean logY;
    private int width = 900;
    private int height = 600;

    private Chart(Kind kind, String title, String xLabel, String yLabel) {
        this.kind = kind;
        this.title = Objects.requireNonNull(title);
        this.xLabel = Objects.requireNonNull(xLabel);
        this.yLabel = Objects.requireNonNull(yLabel);
    }

    /** A scatter plot (points with labels); add series with {@link #series}. */
    public static Chart xy(String title, String xLabel, String yLabel) {
        return new Chart(Kind.XY, title, xLabel, yLabel);
    }

    /**
     * A histogram of {@code values} in {@code bins} equal bins between their minimum and maximum (NaN values are
     * skipped; throws {@link IllegalArgumentException} if none are finite or bins is not positive).
     */
    public static Chart histogram(String title, String xLabel, double[] values, int bins) {
        if (bins <= 0 || bins > MAX_SIDE) {
            throw new IllegalArgumentException(String.format("bins (%d) must be between 1 and %d", bins, MAX_SIDE));
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            if (Double.isFinite(v)) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (lo > hi) {
            throw new IllegalArgumentException("a histogram needs at least one finite value");
        }
        double width = hi > lo ? (hi - lo) / bins : 1.0;
        long[] counts = new long[bins];
        for (double v : values) {
            if (Double.isFinite(v)) {
                counts[Math.min(bins - 1, (int) ((v - lo) / width))]++;
            }
        }
        List<Point> pts = new ArrayList<>(bins);
        for (int i = 0; i < bins; i++) {
            pts.add(new Point(lo + (i + 0.5) * width, counts[i], ""));
        }
        Chart c = new Chart(Kind.HISTOGRAM, title, xLabel, "count");
        c.names.add("values");
        c.series.add(pts);
        return c;
    }

    /** Adds a series drawn in the next palette colour; points keep their order (lines join them in order). */
    public Chart series(String name, List<Point> points) {
        if (kind != Kind.XY) {
            throw new IllegalStateException("a histogram has exactly one series");
        }
        names.add(Objects.requireNonNull(name));
        series.add(List.copyOf(points));
        return this;
    }

    /** Joins each series' points with lines (default: points only). */
    public Chart lines(boolean joined) {
        this.lines = joined;
        return this;
    }

    /** Logarithmic y axis (all y values must be positive). */
    public Chart logY(boolean log) {
        this.logY = log;
        return this;
    }

    /** Image size in pixels (default 900x600). */
    public Chart size(int w, int h) {
        if (w < 100 || h < 100 || w > MAX_SIDE || h > MAX_SIDE) {
            throw new IllegalArgumentException(String.format("chart size %dx%d must lie between 100 and %d pixels",
                    w, h, MAX_SIDE));
        }
        this.width = w;
        this.height = h;
        return this;
    }

    /** Writes the PNG to {@code file} atomically (temporary file in the same folder, then rename). */
    public void writePng(Path file) throws IOException {
        AtomicOutput.write(file, true, this::writePng);
    }

    /**
     * Writes {@code charts} stacked top to bottom into one PNG {@code width} pixels wide, each {@code height} pixels
     * high (their own sizes are ignored), atomically.
     */
    public static void stacked(Path file, int width, int height, Chart... charts) throws IOException {
        if (charts.length == 0 || (long) height * charts.length > MAX_SIDE) {
            throw new IllegalArgumentException(String.format("%d charts of height %d do not fit %d pixels",
                    charts.length, height, MAX_SIDE));
        }
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        BufferedImage all = new BufferedImage(width, height * charts.length, BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = all.createGraphics();
        try {
            for (int i = 0; i < charts.length; i++) {
                g.drawImage(charts[i].size(width, height).render(), 0, i * height, null);
            }
        } finally {
            g.dispose();
        }
        AtomicOutput.write(file, true, os -> {
            if (!ImageIO.write(all, "png", os)) {
                throw new IOException("no PNG writer in this JDK");
            }
        });
    }

    /** Writes the PNG to {@code os} (not closed). */
    public void writePng(OutputStream os) throws IOException {
        BufferedImage img = render();
        if (!ImageIO.write(img, "png", os)) {
            throw new IOException("no PNG writer in this JDK");
        }
    }

    /** Draws the chart into an image. */
    BufferedImage render() {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        XYSeriesCollection data = new XYSeriesCollection();
        for (int i = 0; i < series.size(); i++) {
            XYSeries s = new XYSeries(names.get(i), false, true);
            for (Point p : series.get(i)) {
                if (Double.isFinite(p.x()) && Double.isFinite(p.y()) && (!logY || p.y() > 0)) {
                    s.add(p.x(), p.y());
                }
            }
            data.addSeries(s);
        }
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
        NumberAxis x = new NumberAxis(xLabel);
        x.setAutoRangeIncludesZero(false);
        ValueAxis y;
        if (logY) {
            LogAxis ly = new LogAxis(yLabel);
            ly.setNumberFormatOverride(new java.text.DecimalFormat("0.##",
                    java.text.DecimalFormatSymbols.getInstance(java.util.Locale.ROOT))); // 3.98, not 10^0.6
            y = ly;
        } else {
            NumberAxis ny = new NumberAxis(yLabel);
            ny.setAutoRangeIncludesZero(kind == Kind.HISTOGRAM);
            y = ny;
        }
        for (ValueAxis a : List.of(x, y)) {
            a.setLabelFont(font);
            a.setTickLabelFont(font.deriveFont(11f));
        }
        XYPlot plot;
        if (kind == Kind.HISTOGRAM) {
            XYBarRenderer bars = new XYBarRenderer(0.05);
            bars.setShadowVisible(false);
            bars.setDrawBarOutline(false);
            bars.setBarPainter(new org.jfree.chart.renderer.xy.StandardXYBarPainter());
            bars.setSeriesPaint(0, PALETTE[0]);
            plot = new XYPlot(data, x, y, bars);
        } else {
            XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(lines, true);
            for (int i = 0; i < series.size(); i++) {
                r.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
                r.setSeriesStroke(i, new BasicStroke(1.5f));
            }
            plot = new XYPlot(data, x, y, r);
            Font labelFont = font.deriveFont(11f);
            for (int i = 0; i < series.size(); i++) {
                for (Point p : series.get(i)) {
                    if (!p.label().isEmpty() && Double.isFinite(p.x()) && Double.isFinite(p.y()) && (!logY || p.y() > 0)) {
                        XYTextAnnotation a = new XYTextAnnotation("  " + p.label(), p.x(), p.y());
                        a.setFont(labelFont);
                        a.setTextAnchor(TextAnchor.CENTER_LEFT);
                        a.setPaint(Color.DARK_GRAY);
                        plot.addAnnotation(a);
                    }
                }
            }
        }
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 16), plot,
                kind == Kind.XY && series.size() > 1);
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        chart.setTextAntiAlias(RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        return chart.createBufferedImage(width, height, BufferedImage.TYPE_INT_RGB, null);
    }
}
