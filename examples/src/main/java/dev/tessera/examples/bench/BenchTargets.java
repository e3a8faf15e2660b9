package dev.tessera.examples.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;
import java.util.function.DoublePredicate;

/**
 * The speed targets set for the CPU kernels, checked against one run's medians so that a table
 * says for itself which it met: the GEMM at least 0.8x libtorch's GFLOP/s on every GPT-2 shape,
 * the fused kernels at least as fast as libtorch, and 2 threads at least 1.8x one thread on the
 * GEMM rows. A row that did not run on both sides counts as not measured, never as met.
 */
final class BenchTargets {
    private BenchTargets() {}

    /** Which target a row is held to. */
    enum Kind {
        /** Square products: only the scaling target. */
        GEMM_SQUARE,
        /** The GPT-2 products and their backward variants: GFLOP/s and scaling targets. */
        GEMM_GPT2,
        /** Softmax, layer norm, GELU, cross entropy, AdamW, forward and backward. */
        FUSED,
        /** Rows shown for context (the memory-bound floor, decoding, the MLP through autograd). */
        NONE
    }

    /** Tessera's time over libtorch's may be at most 1 / 0.8 on the GPT-2 products. */
    static final double GEMM_MAX_TIME_RATIO = 1 / 0.8;
    static final double FUSED_MAX_TIME_RATIO = 1.0;
    static final double MIN_SPEEDUP_AT_2_THREADS = 1.8;

    /**
     * One row's outcome: its name, what it is held to, and its value: Tessera's time over
     * libtorch's in the main table, Tessera's 1-thread time over its 2-thread time in the scaling
     * table. NaN when a side did not run.
     */
    record Outcome(String name, Kind kind, double value) {}

    /** What a --quick run prints instead: its tiny shapes, barely warmed up, say nothing about the targets. */
    static final String NOT_CHECKED_QUICK = "targets: not checked (--quick runs tiny shapes with a short warm-up; the targets are for the full ones)";

    /** Lines for the main table's targets (a header and one per target). */
    static List<String> summary(List<Outcome> rows) {
        List<String> out = new ArrayList<>();
        out.add("targets, from this run's medians:");
        out.add("  " + line(String.format(Locale.ROOT, "GEMM on the GPT-2 shapes, at least 0.8x libtorch's GFLOP/s (T/torch <= %.2f)", GEMM_MAX_TIME_RATIO),
                of(rows, Kind.GEMM_GPT2), GEMM_MAX_TIME_RATIO, "", true));
        out.add("  " + line(String.format(Locale.ROOT, "softmax, layer norm, GELU, cross entropy, AdamW, at least libtorch's speed (T/torch <= %.2f)",
                FUSED_MAX_TIME_RATIO), of(rows, Kind.FUSED), FUSED_MAX_TIME_RATIO, "", true));
        return out;
    }

    /** The scaling target's line; it is stated for 2 threads, so at other counts the line only says so. */
    static String scalingSummary(List<Outcome> rows, int threads) {
        String target = "2 threads at least 1.8x one thread on the GEMM rows";
        if (threads != 2) return "target: " + target + ": not checked (this run used " + threads + " threads)";
        List<Outcome> gemm = new ArrayList<>(of(rows, Kind.GEMM_SQUARE));
        gemm.addAll(of(rows, Kind.GEMM_GPT2));
        return "target: " + line(target, gemm, MIN_SPEEDUP_AT_2_THREADS, "x", false);
    }

    /**
     * v with two decimals, or more where two would print the bound itself for a value off it (a
     * missed speedup of 1.798 is not shown as "1.80").
     */
    static String shown(double v, double bound) {
        for (int decimals = 2; decimals < 6; decimals++) {
            String text = String.format(Locale.ROOT, "%." + decimals + "f", v);
            if (v == bound || Double.parseDouble(text) != bound) return text;
        }
        return String.format(Locale.ROOT, "%.6f", v);
    }

    private static List<Outcome> of(List<Outcome> rows, Kind kind) {
        return rows.stream().filter(r -> r.kind() == kind).toList();
    }

    /**
     * "target: met on m of n rows (worst: ...)" or "...; missed: row value, ..."; rows without a
     * value are listed apart. A value meets the bound when it is at most it (higherIsWorse) or at
     * least it.
     */
    private static String line(String target, List<Outcome> rows, double bound, String unit, boolean higherIsWorse) {
        DoublePredicate met = v -> higherIsWorse ? v <= bound : v >= bound;
        StringBuilder s = new StringBuilder(target).append(": ");
        if (rows.isEmpty()) return s.append("no such rows in this run").toString();
        int measured = 0, metCount = 0;
        Outcome worst = null;
        StringJoiner missed = new StringJoiner(", "), unmeasured = new StringJoiner(", ");
        for (Outcome r : rows) {
            double v = r.value();
            if (Double.isNaN(v)) {
                unmeasured.add(r.name());
                continue;
            }
            measured++;
            if (met.test(v)) metCount++;
            else missed.add(r.name() + " " + shown(v, bound) + unit);
            if (worst == null || (higherIsWorse ? v > worst.value() : v < worst.value())) worst = r;
        }
        if (measured == 0) return s.append("not measured (").append(unmeasured).append(": a side did not run)").toString();
        s.append("met on ").append(metCount).append(" of ").append(measured).append(measured == 1 ? " row" : " rows");
        if (metCount < measured) s.append("; missed: ").append(missed);
        else s.append(" (worst: ").append(worst.name()).append(' ').append(shown(worst.value(), bound)).append(unit).append(')');
        if (measured < rows.size()) s.append("; not measured: ").append(unmeasured);
        return s.toString();
    }
}
