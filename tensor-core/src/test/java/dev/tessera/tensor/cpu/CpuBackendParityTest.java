package dev.tessera.tensor.cpu;

import dev.tessera.tensor.Backend;
import dev.tessera.tensor.testing.BackendParitySuite;

/** Every primitive of the Vector API backend against the scalar reference (see BackendParitySuite). */
class CpuBackendParityTest extends BackendParitySuite {
    private static final CpuBackend BACKEND = new CpuBackend();

    @Override
    protected Backend backend() { return BACKEND; }
}
