package dev.tessera.examples;

import dev.tessera.tensor.BackendProvider;
import dev.tessera.tensor.Backends;
import dev.tessera.tensor.Device;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Lists the devices Tessera can use: the CPU backend and every device a provider reports. */
@Command(name = "devices", description = "List the CPU backend and the OpenCL devices found.")
public final class DevicesCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        System.out.println("cpu: " + Backends.cpu().describe());
        BackendProvider opencl = Backends.provider(Device.OPENCL_KIND);
        if (opencl == null) {
            System.out.println("opencl: the gpu-kernels module is not on the class path");
            return 0;
        }
        List<String> found = opencl.listDevices();
        if (found.isEmpty()) {
            System.out.println("opencl: none usable: " + opencl.unavailableReason());
        }
        for (int i = 0; i < found.size(); i++) {
            System.out.println("opencl:" + i + ": " + found.get(i));
        }
        return 0;
    }
}
