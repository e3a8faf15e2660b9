package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

import java.util.Arrays;

/** Stacks equal-shaped inputs along a new dim. Backward hands input i the gradient's slice i along that dim. */
public final class Stack extends Function {
    private final int dim;
    private int d;

    public Stack(int dim) { this.dim = dim; }

    @Override
    protected NDArray forward(NDArray... in) {
        if (in.length == 0) throw new IllegalArgumentException("stack: no tensors given");
        NDArray out = NDArray.stack(dim, Arrays.asList(in));
        d = dim < 0 ? dim + out.rank() : dim;
        return out;
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray[] out = new NDArray[inputCount()];
        for (int i = 0; i < out.length; i++) if (needsInputGrad(i)) out[i] = g.select(d, i);
        return out;
    }
}
