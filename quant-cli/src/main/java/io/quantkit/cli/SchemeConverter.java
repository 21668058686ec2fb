package io.quantkit.cli;

import io.quantkit.quant.Scheme;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses an option value {@code name[:k=v,...]} into a {@link Scheme}; a bad spelling is a usage error (exit 2). */
final class SchemeConverter implements ITypeConverter<Scheme> {
    @Override
    public Scheme convert(String value) {
        try {
            return Scheme.parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
