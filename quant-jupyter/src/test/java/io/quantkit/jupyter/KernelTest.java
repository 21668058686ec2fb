package io.quantkit.jupyter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import jdk.jshell.JShell;
import org.junit.jupiter.api.Test;

/** The kernel's cell evaluation: results, and every kind of failure a notebook cell can have. */
class KernelTest {
    /** Surefire's real class path (the JVM's may be a manifest-only jar), as the launcher gives the kernel's. */
    private static JShell shell() {
        return Kernel.newShell(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
    }

    @Test
    void cellsShareStateAndTheLastExpressionIsTheResult() {
        try (JShell js = shell()) {
            assertNull(Kernel.run(js, "// a comment\nint x = 20;\nint twice(int v) { return 2 * v; }\n"));
            assertEquals("42", Kernel.run(js, "int y = twice(x) + 2;\ny"));
            assertNull(Kernel.run(js, "y + 1;\nint z = 3;"), "only a final expression is the result");
            assertEquals("\"17\"", Kernel.run(js, "io.quantkit.quant.SchemeKind.values().length > 10 ? \"17\" : \"no\""),
                    "quantkit's classes are on the kernel's class path");
        }
    }

    @Test
    void failuresNameTheLineAndTheCause() {
        String helpers = "void check(boolean ok, String claim) { if (!ok) throw new IllegalStateException(\"CHECK FAILED: \" + claim); }\n";
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("int x = 1;\nString s = x;\n", "line 2 (String s = x;) does not compile: incompatible types");
        bad.put("int[] a = new int[2];\n\n// why\nint y = a[5];\n", "line 4 (int y = a[5];) threw java.lang.ArrayIndexOutOfBoundsException");
        bad.put(helpers + "check(1 + 1 == 3, \"arithmetic\");\n", "CHECK FAILED: arithmetic");
        bad.put("int f() { return undefinedThing(); }\n", "undefinedThing");
        bad.put("/vars\n", "JShell command '/vars'");
        bad.put("int g() {\n  return 1;\n", "unfinished snippet");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            try (JShell js = shell()) {
                Kernel.CellError err = assertThrows(Kernel.CellError.class, () -> Kernel.run(js, e.getKey()), e.getKey());
                assertTrue(err.getMessage().contains(e.getValue()), err.getMessage());
            }
        }
    }
}
