package io.quantkit.bench;

import io.quantkit.quant.Codecs;
import io.quantkit.quant.Scheme;
import java.util.ArrayList;
import java.util.List;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs the JMH benchmarks for every scheme whose codec exists (schemes whose codec throws
 * UnsupportedOperationException are skipped and listed). Accepts JMH's usual options, e.g.
 * {@code -wi 2 -i 3 -w 1s -r 1s -f 1 CodecBenchmark}; {@code -p scheme=q4_0,q8_0} picks schemes explicitly.
 */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) throws RunnerException, CommandLineOptionException {
        CommandLineOptions cli = new CommandLineOptions(args);
        OptionsBuilder b = new OptionsBuilder();
        b.parent(cli);
        if (!cli.getParameter("scheme").hasValue()) {
            List<String> present = new ArrayList<>();
            List<String> missing = new ArrayList<>();
            for (String s : CodecBenchmark.allSchemes()) {
                try {
                    Codecs.forScheme(Scheme.parse(s));
                    present.add(s);
                } catch (UnsupportedOperationException e) {
                    missing.add(s);
                }
            }
            System.out.println("benchmarking schemes " + present + (missing.isEmpty() ? "" : "; no codec yet: " + missing));
            b.param("scheme", present.toArray(new String[0]));
        }
        Options opts = b.build();
        new org.openjdk.jmh.runner.Runner(opts).run();
    }
}
