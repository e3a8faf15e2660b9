/**
 * Tessera's OpenCL backend: hand-written OpenCL C kernels (resources under dev/tessera/gpu/kernels)
 * run through JOCL and plugged into tensor-core's Backend SPI. See {@link dev.tessera.gpu.OpenCl}.
 */
package dev.tessera.gpu;
