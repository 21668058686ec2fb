package io.quantkit.cli;

import io.quantkit.calib.CalibratedConversion;
import io.quantkit.calib.CalibrationProfile;
import io.quantkit.calib.Method;
import io.quantkit.model.LlamaWeights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code --calibration PROFILE [--calib-method M] [--act-order]} for commands that quantize weights
 * ({@code @Mixin}): with a profile, int/int4/int4-outliers (mode=sym), q4_0 and q4_1 weights are quantized by a
 * calibrated method (GPTQ by default) instead of round to nearest.
 */
public final class CalibrationOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--calibration", paramLabel = "PROFILE",
            description = "Calibration profile from 'quant calibrate' for this model: int, int8, int4, "
                    + "int4-outliers (mode=sym), q4_0 and q4_1 weights are then quantized by --calib-method; the profile "
                    + "must come from the same weights.")
    Path profile;

    @Option(names = "--calib-method", paramLabel = "M", defaultValue = "gptq",
            description = "With --calibration: gptq (error compensation with E[xx^T]), imatrix "
                    + "(importance-weighted scale search) or rtn; a recipe's METHOD column overrides it "
                    + "(default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--act-order", description = "With gptq: visit columns by decreasing input energy.")
    boolean actOrder;

    /** Whether a profile was given. */
    boolean given() {
        return profile != null;
    }

    /** The parsed --calib-method (bad usage when unknown). */
    Method method() {
        try {
            return Method.parse(method);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(mixee.commandLine(), "--calib-method: " + e.getMessage());
        }
    }

    /** Reads the profile (null when none was given). */
    CalibrationProfile read() throws IOException {
        if (profile == null) {
            return null;
        }
        if (!Files.isRegularFile(profile)) {
            throw new NoSuchFileException(profile.toString());
        }
        return CalibrationProfile.read(profile);
    }

    /**
     * The calibrated quantizer for {@code weights}, or null without a profile. A profile made from other weights
     * or with other shapes is refused ({@link IllegalArgumentException}: one error line, exit code 2).
     */
    CalibratedConversion quantizer(CalibrationProfile p, LlamaWeights weights) {
        if (p == null) {
            return null;
        }
        Method m = method();
        try {
            p.checkFits(weights);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(profile + ": " + e.getMessage(), e);
        }
        return CalibratedConversion.of(p, m, actOrder);
    }
}
