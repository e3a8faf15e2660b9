/**
 * Safetensors IO: {@link dev.tessera.tensor.io.Safetensors} reads files into CPU
 * {@link dev.tessera.tensor.NDArray}s (validating the whole header first) and writes them
 * atomically, byte-compatible with Hugging Face's writer.
 */
package dev.tessera.tensor.io;
