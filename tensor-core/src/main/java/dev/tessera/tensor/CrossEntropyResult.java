package dev.tessera.tensor;

/**
 * Per-row cross entropy of logits [N, V] against targets [N].
 *
 * @param loss       per-row loss [N] (0 for ignored rows), in the logits' compute dtype
 * @param logSumExp  per-row log-sum-exp of the logits [N], kept for backward
 * @param validCount number of rows whose target is not the ignore index
 */
public record CrossEntropyResult(NDArray loss, NDArray logSumExp, long validCount) {}
