package io.quantkit.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TrainingCurvesTest {

    @Test
    void perplexityAxisTurnsLogarithmicBeyondAFactorOfTen() {
        // ternary QAT of stories260K: PTQ 1137.6 beside a curve from 10.2 to 7.6 and the baseline 4.22
        assertTrue(TrainingCurves.spansOrdersOfMagnitude(List.of(4.22, 1137.6, 10.19, 7.59)));
        // int4 QAT: baseline 4.22, PTQ 5.03, curve 4.60 to 4.44
        assertFalse(TrainingCurves.spansOrdersOfMagnitude(List.of(4.22, 5.03, 4.60, 4.44)));
        // exactly 10x stays linear; NaN, infinities and non-positive values are ignored
        assertFalse(TrainingCurves.spansOrdersOfMagnitude(List.of(1.0, 10.0, Double.NaN, 0.0, -5.0,
                Double.POSITIVE_INFINITY)));
        assertFalse(TrainingCurves.spansOrdersOfMagnitude(List.of()));
    }
}
