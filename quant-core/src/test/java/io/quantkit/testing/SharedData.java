package io.quantkit.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the real data in {@code ../shared/data} (beside the project root). Tests that use it carry
 * {@code @Tag("real-data")}; they run in CI with {@code -Preal-data} and fail, never skip, when it is missing.
 */
public final class SharedData {
    private SharedData() {
    }

    /** The path of {@code rel} under the shared data folder; fails the test if it does not exist. */
    public static Path path(String rel) {
        String base = System.getProperty("quant.shared.data");
        Path root = base != null ? Path.of(base) : Path.of("..", "..", "shared", "data");
        Path p = root.resolve(rel).normalize();
        if (!Files.exists(p)) {
            fail("real data missing: " + p.toAbsolutePath() + " (the real-data suite needs ../shared/data beside the project)");
        }
        return p;
    }
}
