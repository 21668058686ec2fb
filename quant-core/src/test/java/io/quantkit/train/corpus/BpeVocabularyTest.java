package io.quantkit.train.corpus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BpeVocabularyTest {

    @Test
    void firstMergesOfATinyCorpusByHand() {
        // words " ab" x3 and " abc": pairs (" ","a") 4, ("a","b") 4, ("b","c") 1; the tie goes to " a" (space sorts first),
        // then (" a","b") 4 gives " ab"; (" ab","c") occurs once, so training stops there.
        BpeVocabulary v = BpeVocabulary.train(List.of("ab ab ab", "abc"), 300);
        assertEquals(3 + 256 + 5 + 2, v.size());
        assertEquals("\n", v.piece(259));
        assertEquals(" ", v.piece(260));
        assertEquals("a", v.piece(261));
        assertEquals(" a", v.piece(264));
        assertEquals(" ab", v.piece(265));
        assertEquals(0f, v.score(264));
        assertEquals(-1f, v.score(265));
        assertEquals("<0x41>", v.piece(3 + 0x41));
        assertArrayEquals(new int[] {1, 265, 265, 265}, v.encode("ab ab ab", true));
        assertArrayEquals(new int[] {265, 263}, v.encode("abc", false));
        assertThrows(IllegalArgumentException.class, () -> BpeVocabulary.train(List.of("abc"), 200));
    }

    /** run.c's encoder over the whole text, without splitting into words: the reference for {@link BpeVocabulary#encode}. */
    static int[] runCEncode(BpeVocabulary v, String text) {
        java.util.Map<String, Integer> ids = new java.util.HashMap<>();
        for (int i = v.size() - 1; i >= 0; i--) {
            ids.put(v.piece(i), i);
        }
        List<Integer> t = new ArrayList<>();
        if (!text.isEmpty()) {
            t.add(ids.get(" "));
        }
        text.codePoints().forEach(cp -> {
            String s = new String(Character.toChars(cp));
            Integer id = ids.get(s);
            if (id != null) {
                t.add(id);
            } else {
                for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
                    t.add(3 + (b & 0xff));
                }
            }
        });
        while (true) {
            float best = -1e10f;
            int bestId = -1;
            int bestIdx = -1;
            for (int i = 0; i + 1 < t.size(); i++) {
                Integer id = ids.get(v.piece(t.get(i)) + v.piece(t.get(i + 1)));
                if (id != null && v.score(id) > best) {
                    best = v.score(id);
                    bestId = id;
                    bestIdx = i;
                }
            }
            if (bestIdx < 0) {
                break;
            }
            t.set(bestIdx, bestId);
            t.remove(bestIdx + 1);
        }
        return t.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void wordByWordEncodingEqualsWholeTextEncoding() throws IOException {
        StoryGenerator g = new StoryGenerator(5);
        String corpus = g.text(60_000);
        BpeVocabulary v = BpeVocabulary.train(List.of(corpus.split("\n\n")), 400);
        long seed = 99;
        SplittableRandom r = new SplittableRandom(seed);
        String alphabet = "ab c\n\u00e9\u4e2d  .,!?Tt";
        List<String> texts = new ArrayList<>(List.of("", " ", "  two  spaces", "line\nbreak\n\nand more", "Once upon a time",
                corpus.substring(0, 3000), "caf\u00e9 \u4e2d\u6587 \ud83d\ude00 <0x41>"));
        for (int k = 0; k < 50; k++) {
            StringBuilder sb = new StringBuilder();
            int len = r.nextInt(40);
            for (int i = 0; i < len; i++) {
                sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
            }
            texts.add(sb.toString());
        }
        BpeVocabulary reread = BpeVocabulary.fromTokBin(v.toTokBin(), v.size());
        for (String text : texts) {
            int[] want = runCEncode(v, text);
            assertArrayEquals(want, v.encode(text, false), () -> "text '" + text + "' (seed " + seed + ")");
            assertArrayEquals(want, reread.encode(text, false));
            assertEquals(text, v.decode(v.encode(text, true)), "round trip");
        }
    }

    @Test
    void tokBinLayout() throws IOException {
        BpeVocabulary v = BpeVocabulary.train(List.of("ab ab ab", "abc"), 300);
        byte[] b = v.toTokBin();
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals(6, bb.getInt());                    // longest piece: "\n</s>\n"
        assertEquals(0f, bb.getFloat());                 // <unk>
        assertEquals(5, bb.getInt());
        assertEquals("<unk>", new String(b, 12, 5, StandardCharsets.UTF_8));
        assertThrows(IOException.class, () -> BpeVocabulary.fromTokBin(java.util.Arrays.copyOf(b, 100), 266));
        assertTrue(b.length > 266 * 8);
    }
}
