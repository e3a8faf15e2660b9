package dev.tessera.tensor;

/**
 * Gradients of a normalization over the last dim C.
 *
 * @param input  dL/dx, shape of x [..., C]
 * @param weight dL/dweight [C], or null when there was no weight
 * @param bias   dL/dbias [C], or null when there was no bias (always null for RMS norm)
 */
public record NormGrads(NDArray input, NDArray weight, NDArray bias) {}
