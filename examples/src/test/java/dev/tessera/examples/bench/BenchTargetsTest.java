package dev.tessera.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.examples.bench.BenchTargets.Kind;
import dev.tessera.examples.bench.BenchTargets.Outcome;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The targets summary counts met, missed and unmeasured rows by the thresholds the targets state. */
class BenchTargetsTest {

    @Test
    void mainTableCountsEachTargetOverItsOwnRows() {
        List<String> lines = BenchTargets.summary(List.of(
                new Outcome("gemm 512", Kind.GEMM_SQUARE, 3.0), // no ratio target: ignored
                new Outcome("gpt2 qkv", Kind.GEMM_GPT2, 0.80),
                new Outcome("fc dX", Kind.GEMM_GPT2, 1.25), // exactly 0.8x the GFLOP/s: met
                new Outcome("proj dW", Kind.GEMM_GPT2, 1.05),
                new Outcome("softmax", Kind.FUSED, 0.76),
                new Outcome("gelu erf", Kind.FUSED, 1.47),
                new Outcome("layernorm", Kind.FUSED, 1.0001),
                new Outcome("adamw 124M", Kind.FUSED, Double.NaN),
                new Outcome("neg (memory-bound)", Kind.NONE, 5.0)));
        assertEquals(3, lines.size());
        assertEquals("  GEMM on the GPT-2 shapes, at least 0.8x libtorch's GFLOP/s (T/torch <= 1.25): met on 3 of 3 rows (worst: fc dX 1.25)",
                lines.get(1));
        assertEquals("  softmax, layer norm, GELU, cross entropy, AdamW, at least libtorch's speed (T/torch <= 1.00): met on 1 of 3 rows;"
                + " missed: gelu erf 1.47, layernorm 1.0001; not measured: adamw 124M", lines.get(2));
    }

    @Test
    void rowsThatDidNotRunOnBothSidesAreNeverCountedAsMet() {
        List<String> lines = BenchTargets.summary(List.of(new Outcome("gpt2 qkv", Kind.GEMM_GPT2, Double.NaN)));
        assertEquals("  GEMM on the GPT-2 shapes, at least 0.8x libtorch's GFLOP/s (T/torch <= 1.25): not measured (gpt2 qkv: a side did not run)",
                lines.get(1));
        assertEquals("  softmax, layer norm, GELU, cross entropy, AdamW, at least libtorch's speed (T/torch <= 1.00): no such rows in this run",
                lines.get(2));
    }

    @Test
    void scalingTargetCoversSquareAndGpt2ProductsAtTwoThreadsOnly() {
        List<Outcome> rows = List.of(
                new Outcome("gemm 512", Kind.GEMM_SQUARE, 1.62),
                new Outcome("gemm 1024", Kind.GEMM_SQUARE, 1.84),
                new Outcome("gpt2 fc", Kind.GEMM_GPT2, 1.95),
                new Outcome("mlp fwd+bwd (autograd)", Kind.NONE, 1.2));
        assertEquals("target: 2 threads at least 1.8x one thread on the GEMM rows: met on 2 of 3 rows; missed: gemm 512 1.62x",
                BenchTargets.scalingSummary(rows, 2));
        assertEquals("target: 2 threads at least 1.8x one thread on the GEMM rows: met on 1 of 1 row (worst: gemm 1024 1.84x)",
                BenchTargets.scalingSummary(List.of(rows.get(1)), 2));
        assertEquals("target: 2 threads at least 1.8x one thread on the GEMM rows: not checked (this run used 4 threads)",
                BenchTargets.scalingSummary(rows, 4));
    }

    @Test
    void aMissByLessThanTheLastPrintedDigitShowsMoreDigits() {
        assertEquals("target: 2 threads at least 1.8x one thread on the GEMM rows: met on 0 of 1 row; missed: fc dX 1.798x",
                BenchTargets.scalingSummary(List.of(new Outcome("fc dX", Kind.GEMM_GPT2, 1.7981)), 2));
        assertEquals("1.80", BenchTargets.shown(1.8, 1.8), "on the bound: met, two decimals");
        assertEquals("1.803", BenchTargets.shown(1.8031, 1.8), "near the bound: the digits that tell it apart");
        assertEquals("1.85", BenchTargets.shown(1.8512, 1.8));
        assertEquals("1.0001", BenchTargets.shown(1.0001, 1.0));
    }
}
