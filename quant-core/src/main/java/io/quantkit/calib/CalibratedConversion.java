package io.quantkit.calib;

import io.quantkit.io.convert.Converter;
import io.quantkit.quant.QuantizedTensor;
import io.quantkit.quant.Scheme;
import io.quantkit.quant.SchemeKind;
import io.quantkit.tensor.Shape;
import io.quantkit.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The calibrated quantizer that {@code convert --calibration} and {@code compare --calibration} plug into the
 * converter and the comparison: for each weight it applies a {@link Method} with the profile's statistics
 * ({@link CalibratedQuantizer}), writing the scheme's ordinary stored layout.
 *
 * <p>Method per weight: the recipe rule's, else {@code defaultMethod}. Schemes a calibrated method cannot write
 * (fp8, ternary, q8_0, asymmetric int grids ...) are left to their codec, unless a rule names a method for them, which
 * is an error. A weight the profile has no statistics for (the token embedding has no input activations) is
 * quantized with an unweighted, MSE-optimal scale search and reported as "mse"; int4-outliers with
 * {@code select=saliency} and no statistics choose by magnitude. Thread-safe (immutable).
 */
public final class CalibratedConversion implements Converter.TensorQuantizer {
    /** Reported for a weight without statistics quantized by a calibrated method. */
    public static final String NO_STATS = "mse";

    private final CalibrationProfile profile;
    private final Method defaultMethod;
    private final boolean actOrder;
    private final List<int[]> sequences; // empty: the profile's statistics; else sequential calibration on these
    private final boolean floatTargets;

    private CalibratedConversion(CalibrationProfile profile, Method defaultMethod, boolean actOrder,
                                 List<int[]> sequences, boolean floatTargets) {
        this.floatTargets = floatTargets;
        this.profile = Objects.requireNonNull(profile, "profile");
        this.defaultMethod = Objects.requireNonNull(defaultMethod, "defaultMethod");
        this.actOrder = actOrder;
        List<int[]> copy = new ArrayList<>();
        for (int[] s : sequences) {
            copy.add(s.clone());
        }
        this.sequences = Collections.unmodifiableList(copy);
    }

    /** A quantizer using {@code profile}, with {@code defaultMethod} where a rule names none. */
    public static CalibratedConversion of(CalibrationProfile profile, Method defaultMethod, boolean actOrder) {
        return new CalibratedConversion(profile, defaultMethod, actOrder, List.of(), false);
    }

    /**
     * The same quantizer for sequential calibration ({@link SequentialCalibration}): a caller that quantizes a whole
     * model (compare's rows) takes each staged weight's statistics from {@code sequences} run through the model with
     * the earlier weights quantized, and passes them to {@link #quantize(String, Tensor, Scheme, String, TensorStats)};
     * the profile still decides which weights have statistics, and gives the token embedding's. With
     * {@code floatTargets} the caller also aims each weight at the float model's layer output
     * ({@link SequentialCalibration.Paired#target}) instead of at the quantized inputs times the float weight.
     *
     * @throws IllegalArgumentException when {@code sequences} is empty
     */
    public CalibratedConversion sequential(List<int[]> sequences, boolean floatTargets) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("sequential calibration needs calibration sequences");
        }
        return new CalibratedConversion(profile, defaultMethod, actOrder, sequences, floatTargets);
    }

    /** Whether sequential calibration aims at the float model's layer outputs ({@link #sequential(List, boolean)}). */
    public boolean floatTargets() {
        return floatTargets;
    }

    /** Whether this quantizer asks for sequential calibration ({@link #sequential(List, boolean)}). */
    public boolean isSequential() {
        return !sequences.isEmpty();
    }

    /** The sequences of sequential calibration (empty when not sequential); the arrays are copies. */
    public List<int[]> sequences() {
        List<int[]> out = new ArrayList<>();
        for (int[] s : sequences) {
            out.add(s.clone());
        }
        return out;
    }

    /** Whether calibrated methods can write {@code scheme} for rows of {@code cols}. */
    static boolean supports(Scheme scheme, long cols) {
        try {
            GridTarget t = GridTarget.of(scheme);
            t.group((int) Math.min(Integer.MAX_VALUE, cols));
            return cols > 0 && cols <= TensorStats.MAX_WIDTH;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public String method(String name, Shape shape, Scheme scheme, String ruleMethod) {
        Method m = ruleMethod == null ? defaultMethod : Method.parse(ruleMethod);
        TensorStats stats = profile.stats(name);
        boolean calibratedSelect = scheme.kind() == SchemeKind.INT4_OUTLIERS
                && !scheme.param("select").equals("magnitude") && stats != null;
        if (m == Method.RTN) {
            // the codec has no statistics to choose outliers by saliency or weighted error; CalibratedQuantizer has
            return calibratedSelect ? "rtn" : null;
        }
        boolean ok = shape.rank() == 2 && supports(scheme, shape.rowLength());
        if (!ok) {
            if (ruleMethod != null) {
                throw new IllegalArgumentException("method " + m.cliName() + " cannot write " + scheme
                        + " for shape " + shape + " (calibrated methods write int, int8, int4, int4-outliers with "
                        + "mode=sym, q4_0 and q4_1, for 2-D weights)");
            }
            return null;
        }
        if (stats != null && stats.width() != shape.rowLength()) {
            throw new IllegalArgumentException("calibration statistics of width " + stats.width()
                    + " do not fit shape " + shape + ": the profile was made for another model");
        }
        return stats == null ? NO_STATS : m.cliName();
    }

    @Override
    public QuantizedTensor quantize(String name, Tensor tensor, Scheme scheme, String method) {
        return quantize(name, tensor, scheme, method, profile.stats(name));
    }

    /**
     * As {@link #quantize(String, Tensor, Scheme, String)} with {@code stats} in place of the profile's (null: none;
     * sequential calibration passes the statistics it measured).
     */
    public QuantizedTensor quantize(String name, Tensor tensor, Scheme scheme, String method, TensorStats stats) {
        Method m = method.equals(NO_STATS) ? defaultMethod == Method.RTN ? Method.IMATRIX : defaultMethod
                : Method.parse(method);
        return CalibratedQuantizer.quantize(tensor, scheme, m, stats, actOrder);
    }
}
