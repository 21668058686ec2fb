package io.quantkit.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class SchemeTest {

    /** Every name the CLI contract lists must parse, and nothing else may be a scheme. */
    @Test
    void contractNamesAreExactlyTheKinds() {
        String contract = "f32 bf16 f16 fp8-e4m3 fp8-e5m2 int int8 int4 int4-outliers ternary mxfp4 nf4 "
                + "q8_0 q4_0 q4_1 tq1_0 tq2_0";
        Set<String> names = new HashSet<>();
        for (SchemeKind k : SchemeKind.values()) {
            names.add(k.cliName());
        }
        assertEquals(Set.of(contract.split(" ")), names);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "int4                               | int4",
        "INT4                               | int4",
        "int4:group=128                     | int4",
        "int4:group=64,asym                 | int4:group=64,mode=asym",
        "int4:asym,group=64                 | int4:group=64,mode=asym",
        "int:bits=3,group=64                | int:bits=3,group=64",
        "int8                               | int8",
        "int4-outliers:group=128,budget=0.5% | int4-outliers",
        "int4-outliers:budget=1%            | int4-outliers:budget=1%",
        "int4-outliers:budget=100%          | int4-outliers:budget=100%",
        "int4-outliers:budget=4.6bpw        | int4-outliers:budget=4.6bpw",
        "fp8-e4m3:scale=channel             | fp8-e4m3:scale=channel",
        "fp8-e5m2:scale=block,block=64      | fp8-e5m2:scale=block,block=64",
        "ternary:scale=group,group=64       | ternary:scale=group,group=64",
        " q4_0 "                          + "| q4_0",
    })
    void canonicalSpelling(String text, String canonical) {
        Scheme s = Scheme.parse(text);
        assertEquals(canonical, s.toString());
        assertEquals(s, Scheme.parse(s.toString()), "canonical spelling parses back to the same scheme");
    }

    @Test
    void defaultsAreFilledIn() {
        Scheme s = Scheme.parse("int4");
        assertEquals(128, s.intParam("group"));
        assertEquals("sym", s.param("mode"));
        assertEquals(4, Scheme.parse("int").intParam("bits"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "int5                 | unknown scheme 'int5'",
        "int4:group=abc       | group must be an integer, got 'abc'",
        "int:bits=9           | bits (9) must be in 2..8",
        "int:bits=1           | bits (1) must be in 2..8",
        "int4:bogus=1         | scheme int4 has no parameter 'bogus' (accepted: group, mode)",
        "q4_0:group=32        | scheme q4_0 has no parameter 'group' (accepted: none)",
        "int4:group=32,group=64 | parameter 'group' given twice",
        "int4:                | empty parameter",
        "int4:frobnicate      | unknown flag 'frobnicate'",
        "fp8-e4m3:scale=row   | scale must be one of tensor, channel, block, got 'row'",
        "int4-outliers:budget=200%  | budget 200% must be a fraction in 0..1 (0%..100%)",
        "int4-outliers:budget=1.5   | budget 1.5 must be a fraction in 0..1",
        "int4-outliers:budget=-1%   | budget -1% must be a fraction in 0..1",
        "int4-outliers:budget=0bpw  | budget 0bpw must be in (0, 64] bits per weight",
        "int4-outliers:budget=65bpw | budget 65bpw must be in (0, 64] bits per weight",
        "int4-outliers:budget=lots  | budget 'lots' is neither a fraction (0.5%, 0.005) nor a bits-per-weight target",
    })
    void badSchemesSayWhy(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Scheme.parse(text));
        assertTrue(e.getMessage().contains(message), () -> "message was: " + e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(SchemeKind.class)
    void everyKindParsesByItsName(SchemeKind kind) {
        assertEquals(kind, Scheme.parse(kind.cliName()).kind());
        assertEquals(kind.cliName(), Scheme.of(kind).toString());
    }
}
