package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgressTest {

    private static String run(Progress.Mode mode) {
        StringWriter w = new StringWriter();
        Progress p = Progress.of(new PrintWriter(w), mode);
        p.step(1, 4, "a");
        p.step(4, 4, "b");
        p.finish();
        return w.toString();
    }

    @Test
    void plainLinesOnePerStep() {
        assertEquals("[1/4] a\n[4/4] b\n", run(Progress.Mode.LINES));
    }

    @Test
    void barRedrawsOneLineAndClearsIt() {
        String bar = "\r\033[K[######..................] 1/4 a" + "\r\033[K[########################] 4/4 b" + "\r\033[K";
        assertEquals(bar, run(Progress.Mode.BAR));
    }

    @Test
    void quietPrintsNothing() {
        assertEquals("", run(Progress.Mode.QUIET));
    }
}
