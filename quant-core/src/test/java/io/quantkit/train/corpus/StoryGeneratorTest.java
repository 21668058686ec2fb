package io.quantkit.train.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StoryGeneratorTest {

    @Test
    void seededAsciiStoriesSeparatedByBlankLines() {
        String a = new StoryGenerator(42).text(20_000);
        assertEquals(a, new StoryGenerator(42).text(20_000));
        assertNotEquals(a, new StoryGenerator(43).text(20_000));
        assertTrue(a.length() >= 20_000 && a.length() < 22_000, "length " + a.length());
        assertTrue(a.chars().allMatch(c -> c == '\n' || (c >= 32 && c < 127)), "ASCII only");
        assertTrue(a.endsWith("\n") && !a.endsWith("\n\n"));
        String[] stories = a.split("\n\n");
        assertTrue(stories.length > 20);
        for (String s : stories) {
            assertTrue(!s.contains("\n") && s.endsWith(".") || s.endsWith(".\n") || s.endsWith("!") || s.endsWith("\""), s);
            assertTrue(Character.isUpperCase(s.charAt(0)), s);
            assertTrue(!s.contains("  "), "no double spaces: " + s);
        }
        assertTrue(new java.util.HashSet<>(java.util.List.of(stories)).size() > stories.length * 9 / 10, "varied stories");
    }
}
