/**
 * Tessera's array layer: {@link dev.tessera.tensor.NDArray}, dtypes, devices, the
 * {@link dev.tessera.tensor.Backend} SPI with its scalar reference implementation, and the
 * shared thread pool. The Vector API CPU backend lives in {@code dev.tessera.tensor.cpu} and
 * safetensors IO in {@code dev.tessera.tensor.io}.
 */
package dev.tessera.tensor;
