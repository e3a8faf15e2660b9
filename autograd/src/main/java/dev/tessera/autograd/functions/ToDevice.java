package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.NDArray;

/** Moves the values to another device (a copy; the same array when already there). Backward moves the gradient back to the input's device. */
public final class ToDevice extends Function {
    private final Device target;
    private Device source;

    public ToDevice(Device target) { this.target = target; }

    @Override
    public String name() { return "ToDevice(" + target + ")"; }

    @Override
    protected NDArray forward(NDArray... in) {
        source = in[0].device();
        return in[0].to(target);
    }

    @Override
    protected NDArray[] backward(NDArray g) { return new NDArray[] {g.to(source)}; }
}
