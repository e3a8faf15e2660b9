package dev.tessera.gpu;

import dev.tessera.tensor.Backend;
import dev.tessera.tensor.BackendProvider;
import dev.tessera.tensor.Device;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/** Registers the OpenCL backend with tensor-core (META-INF/services/dev.tessera.tensor.BackendProvider). */
public final class OpenClBackendProvider implements BackendProvider {
    private static final ConcurrentHashMap<Integer, OpenClBackend> OPEN = new ConcurrentHashMap<>();

    @Override
    public String kind() { return Device.OPENCL_KIND; }

    @Override
    public List<String> listDevices() {
        return OpenCl.devices().stream().map(OpenClDeviceInfo::describe).toList();
    }

    @Override
    public String unavailableReason() { return OpenCl.unavailableReason(); }

    @Override
    public Backend open(int index) {
        return OPEN.computeIfAbsent(index, OpenClBackend::open);
    }
}
