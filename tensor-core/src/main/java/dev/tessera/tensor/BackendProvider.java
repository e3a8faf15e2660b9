package dev.tessera.tensor;

import java.util.List;

/**
 * Service interface (java.util.ServiceLoader) through which a module such as gpu-kernels adds
 * the backend for one device kind without tensor-core naming it.
 */
public interface BackendProvider {

    /** The device kind served, e.g. "opencl". */
    String kind();

    /** Human-readable list of the devices found (empty when none; never throws for "none found"). */
    List<String> listDevices();

    /**
     * Why no device of this kind can be used (what is missing, what to install), or null when at
     * least one device was found.
     */
    default String unavailableReason() {
        return listDevices().isEmpty() ? "no " + kind() + " devices found" : null;
    }

    /**
     * The backend for device index i of this kind. Throws with a message naming what is missing
     * (no platform, no such index, driver to install) when it cannot be opened.
     */
    Backend open(int index);
}
