package dev.tessera.tensor;

/** Reductions over a set of dims. VAR is the population variance (divide by n). */
public enum ReduceOp {
    SUM, MEAN, MAX, MIN, VAR
}
