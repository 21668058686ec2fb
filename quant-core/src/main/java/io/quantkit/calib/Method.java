package io.quantkit.calib;

import java.util.Locale;

/** How a calibrated quantizer chooses codes and scales. */
public enum Method {
    /** Round to nearest with the scheme's own codec (no calibration used). */
    RTN,
    /** Per group, the scale minimising the importance-weighted squared error Σ imp_j·(w_j − q_j)² (imatrix). */
    IMATRIX,
    /** GPTQ: column-by-column rounding with the error spread over later columns through H = 2·E[x xᵀ]. */
    GPTQ;

    /** Lower-case name as used on the command line. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Method parse(String s) {
        for (Method m : values()) {
            if (m.cliName().equals(s.trim().toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown calibration method '" + s + "' (rtn, imatrix, gptq)");
    }
}
