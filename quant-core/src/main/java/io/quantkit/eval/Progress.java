package io.quantkit.eval;

/** Receives progress of long work: {@code done} of {@code total} units. May be called from worker threads. */
@FunctionalInterface
public interface Progress {
    /** Ignores every update. */
    Progress NONE = (done, total) -> { };

    void update(long done, long total);
}
