package dev.tessera.tensor;

/**
 * Output of a normalization over the last dim C, with what its backward needs.
 *
 * @param out  normalized (and affine-transformed) output, same shape as the input [..., C]
 * @param mean per-row mean [...] in the input's compute dtype (F32 or F64), or null for RMS norm
 * @param rstd per-row reciprocal standard deviation (or reciprocal RMS) [...], same dtype as mean
 */
public record NormResult(NDArray out, NDArray mean, NDArray rstd) {}
