package io.quantkit.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ShapeTest {

    @Test
    void sizesAreLongs() {
        Shape s = Shape.of(131072, 16384);
        assertEquals(2147483648L, s.numel());
        assertEquals(16384, s.rowLength());
        assertEquals(131072, s.rows());
    }

    @Test
    void scalarEmptyAndHigherRank() {
        assertEquals(1, Shape.of().numel());
        assertEquals(1, Shape.of().rowLength());
        assertEquals(0, Shape.of(5, 0).numel());
        assertEquals(0, Shape.of(5, 0).rows());
        Shape s = Shape.of(2, 3, 172);
        assertEquals(6, s.rows());
        assertEquals("[2, 3, 172]", s.toString());
    }

    @Test
    void overflowAndNegativeSizesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Shape.of(-1, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Shape.of(1L << 40, 1L << 40));
        assertEquals("element count of shape [1099511627776, 1099511627776] overflows a long", e.getMessage());
    }

    @Test
    void dimsAreCopied() {
        long[] d = {3, 4};
        Shape s = Shape.of(d);
        d[0] = 99;
        s.dims()[1] = 99;
        assertEquals(Shape.of(3, 4), s);
    }
}
