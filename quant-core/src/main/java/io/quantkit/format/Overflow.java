package io.quantkit.format;

/**
 * What a narrow floating-point encoder does with a value whose magnitude rounds above the format's
 * largest finite value (including ±Infinity).
 *
 * <ul>
 *   <li>{@link #SATURATE} — clamp to ±max finite value (the default for quantization, where a scale has
 *       already been chosen so that overflow only comes from rounding). NaN input still gives NaN.</li>
 *   <li>{@link #NON_SATURATING} — IEEE-style: the format's infinity where it has one (FP8 E5M2), otherwise
 *       NaN (FP8 E4M3FN, which has no infinity).</li>
 * </ul>
 */
public enum Overflow {
    /** Overflow → ±max finite; ±Inf → ±max finite; NaN → NaN. */
    SATURATE,
    /** Overflow and ±Inf → ±Inf (E5M2) or NaN (E4M3FN); NaN → NaN. */
    NON_SATURATING
}
